"""Training a shop's model from its own stored history (TrainFunction and `shopwatch train`): numpy via ModelLayer,
so only TrainFunction and the offline tools import this package."""
