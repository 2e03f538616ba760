"""What the likelihood tests of both purchase models integrate over: a few hand-picked customers, and a Gamma
variable written so that numerical integration over it is well behaved."""

from __future__ import annotations

import math

import numpy as np

CUSTOMERS = (np.array([0, 1, 4]), np.array([0.0, 3.5, 20.0]), np.array([10.0, 12.0, 30.0]))
"""x, t_x and T of three customers: none, one and four repeat purchases."""


def gamma_as_power(shape: float, rate: float):
    """A Gamma(shape, rate) variable as u ** (1 / shape), and the density of u on (0, inf), which unlike the Gamma
    density has no singularity at 0: integrating over u is integrating over the Gamma distribution."""
    return (
        lambda u: u ** (1 / shape),
        lambda u: math.exp(shape * math.log(rate) - rate * u ** (1 / shape) - math.lgamma(shape + 1)),
    )
