"""Reproduction of Ghio, Dandi, Krzakala, Zdeborová (PNAS 2024): thresholds, planes, finite-size runs."""
