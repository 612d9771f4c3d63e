"""The spiking foraging agent (Golden, Delanois, Sanda & Bazhenov 2022): a food world, a 49-784-8
spiking network learning by rewarded STDP, and the sleep phase that protects an old task."""
