"""Shopwatch core: the domain, detectors, storage repositories and notifications shared by every Lambda.

Ships as the CoreLayer (`/opt/python/shopwatch` in Lambda) and is importable in the dev environment, so the
functions, the local stack, training and tests all run the very same code.
"""
