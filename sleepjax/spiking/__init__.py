"""Spiking-network building blocks shared by sleepjax's spiking models."""

from sleepjax.spiking.lif import LIFParams, LIFState, lif_init, lif_step

__all__ = ["LIFParams", "LIFState", "lif_init", "lif_step"]
