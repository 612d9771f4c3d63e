"""Spiking sparse coding (LCA) whose online Hebbian dictionary learning is stabilised by noise sleep."""
