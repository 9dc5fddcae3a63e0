"""The projectile with air drag (samples/projectile.py): a while loop that carries the state.

The reverse sweep tapes the velocity at the start of each step, all it needs to recompute the
step's drag; the landing interpolates within the last step, so the adjoints of ``x_before`` and
``y_before`` enter the loop in its last step only.
"""

import math

from handwritten.case import Case, sample

PROJECTILE = sample("samples/projectile.py")
DT, DRAG, GRAVITY = PROJECTILE.DT, PROJECTILE.DRAG, PROJECTILE.GRAVITY


def landing_grad(wind, angle, speed):
    x = y = 0.0
    vx = speed * math.cos(angle)
    vy = speed * math.sin(angle)
    tape = []
    while y >= 0.0:
        tape.append((vx, vy))
        x_before, y_before = x, y
        air = vx - wind
        relative = math.sqrt(air * air + vy * vy)
        vx = vx - DT * DRAG * relative * air
        vy = vy - DT * (GRAVITY + DRAG * relative * vy)
        x = x + DT * vx
        y = y + DT * vy
    drop = y_before - y
    d_x = y_before / drop
    d_y = (x - x_before) * y_before / drop ** 2
    d_x_before = 1.0 - d_x
    d_y_before = -(x - x_before) * y / drop ** 2
    d_vx = d_vy = 0.0
    for vx, vy in reversed(tape):
        d_vx += DT * d_x
        d_vy += DT * d_y
        air = vx - wind
        relative = math.sqrt(air * air + vy * vy)
        d_relative = -DT * DRAG * (air * d_vx + vy * d_vy)
        d_vx += -DT * DRAG * relative * d_vx + air / relative * d_relative
        d_vy += -DT * DRAG * relative * d_vy + vy / relative * d_relative
        d_x, d_y = d_x + d_x_before, d_y + d_y_before
        d_x_before = d_y_before = 0.0
    d_angle = speed * (math.cos(angle) * d_vy - math.sin(angle) * d_vx)
    return d_angle, math.cos(angle) * d_vx + math.sin(angle) * d_vy


def landing_jvp(wind, angle, speed, d_angle, d_speed):
    x = y = d_x = d_y = 0.0
    vx = speed * math.cos(angle)
    vy = speed * math.sin(angle)
    d_vx = math.cos(angle) * d_speed - vy * d_angle
    d_vy = math.sin(angle) * d_speed + vx * d_angle
    while y >= 0.0:
        x_before, y_before, d_x_before, d_y_before = x, y, d_x, d_y
        air = vx - wind
        relative = math.sqrt(air * air + vy * vy)
        d_relative = (air * d_vx + vy * d_vy) / relative
        d_vx -= DT * DRAG * (d_relative * air + relative * d_vx)
        vx = vx - DT * DRAG * relative * air
        d_vy -= DT * DRAG * (d_relative * vy + relative * d_vy)
        vy = vy - DT * (GRAVITY + DRAG * relative * vy)
        x, d_x = x + DT * vx, d_x + DT * d_vx
        y, d_y = y + DT * vy, d_y + DT * d_vy
    drop = y_before - y
    t = y_before / drop
    d_t = (y_before * d_y - y * d_y_before) / drop ** 2
    value = x_before + (x - x_before) * t
    return value, d_x_before + (d_x - d_x_before) * t + (x - x_before) * d_t


CASES = [
    Case(PROJECTILE.landing, ("angle", "speed"), landing_grad, landing_jvp,
         lambda rng: (float(rng.uniform(-6.0, 8.0)), float(rng.uniform(0.4, 1.0)),
                      float(rng.uniform(15.0, 30.0)))),
]
