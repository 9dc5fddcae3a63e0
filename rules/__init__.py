"""Derivative rules as data, one file per namespace; read as text by ``ad_transpile.registry``."""
