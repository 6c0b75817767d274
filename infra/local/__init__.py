"""The local stack: the template's resources on moto, the handlers loaded as Lambda loads them."""
