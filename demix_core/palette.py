"""The one colour palette of every chart: Okabe & Ito's eight colours, told apart by readers
with any common colour-vision deficiency. Roles are named once here; the figure builders
(`plots`, `lens_plots`) take every colour from this module. Where two roles must also be
told apart in grey (known false negatives vs MPN), the figures add a ring, a dash or a
marker shape as well."""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"  # Okabe-Ito "bluish green"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"  # Okabe-Ito "reddish purple"
GREY = "#999999"
LIGHT_GREY = "#C8C8C8"

# Series in a line or bar chart of several runs or samplers, in order.
SERIES = (BLUE, ORANGE, GREEN, VERMILLION, SKY_BLUE, PURPLE, YELLOW, BLACK)

# Line styles that tell apart the series past len(SERIES), whose colours repeat.
DASHES = ("solid", "dash", "dot")

# A sequential scale (amounts on a heatmap): cividis, even in lightness and readable with
# any common colour-vision deficiency (Nunez, Anderton & Renslow 2018).
SEQUENTIAL = "Cividis"

# Roles in the lens figures.
ROLES = {
    "pattern positive": GREEN,  # a known (train) answer of the query
    "MPN": ORANGE,  # a candidate MPNE calls a probable false negative
    "TN": BLUE,  # a candidate MPNE calls a true negative
    "known FN": VERMILLION,  # a candidate that is a known true fact (held-out truth)
    "partner": PURPLE,  # a hard TN chosen as a TN's AdaMix partner
    "entity": LIGHT_GREY,  # the background of all entities
    "highlight": BLACK,  # an entity found by search, or clicked
    "neutral": GREY,
}
