"""Loading: what can be loaded (catalog), from where (weights files, the hub), how (building and
preprocessing), and images decoded safely. Every failure is a :class:`ModelLoadError` or an
:class:`InputError` with a sentence a user can act on.
"""
