"""Reading a drawing honestly, beside the models' probabilities: is it a digit at all, big enough, one digit or
several (legibility.py), and why the model said what it said (explain.py, saliency maps).

Imports models, numbers and the foundation; never store, training or ui.
"""
