"""mnist-app: read hand-drawn digits with a from-scratch NumPy network and Keras models."""
