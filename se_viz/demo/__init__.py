"""The demo model, a guest of the library: SE-ResNet mini, its synthetic-shapes generator, its
training loop and its model card. The library loads it like any catalog entry; nothing in the core
depends on this package except the catalog's ``builder = "mini"``.
"""
