"""A differentiable simulation beyond machine learning: a projectile with air drag.

    python samples/projectile.py plots/projectile

The program steps the motion in a while loop until the projectile falls back to the ground
and returns where it lands (interpolated within the last step, so that the distance varies
smoothly with the launch). A cannon fired on days of different wind landed its shots on the
targets below; fitting the launch angle and speed to them recovers the true launch
(0.7 rad and 25 m/s) from a poor guess.
"""

import math
import sys

TRUE = {"angle": 0.7, "speed": 25.0}
WINDS = [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]  # m/s, a tail wind is positive

GRAVITY = 9.81
DRAG = 0.02  # per metre: the deceleration is DRAG * |v - wind| * (v - wind)
DT = 0.01


def landing(wind, angle, speed):
    x = 0.0
    y = 0.0
    vx = speed * math.cos(angle)
    vy = speed * math.sin(angle)
    x_before = x
    y_before = y
    while y >= 0.0:
        x_before = x
        y_before = y
        air = vx - wind
        relative = math.sqrt(air * air + vy * vy)
        vx = vx - DT * DRAG * relative * air
        vy = vy - DT * (GRAVITY + DRAG * relative * vy)
        x = x + DT * vx
        y = y + DT * vy
    return x_before + (x - x_before) * y_before / (y_before - y)


def soft_tests():
    """(wind, landing distance) for each day: the targets the shots landed on."""
    return [(wind, landing(wind, **TRUE)) for wind in WINDS]


def main(plot_dir=None):
    import ad_transpile as adt

    result = adt.fit(landing, soft_tests(), {"angle": 0.3, "speed": 15.0})
    print(result.summary())
    print("true:", TRUE)
    if plot_dir:
        print("plots:", *result.plot(plot_dir))
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
