"""Live speech: sliding-window streaming of any artifact or eager model (``fitedge.stream``).

:mod:`~fitedge.edge.stream.geometry` lays the windows out (hop, receptive field, chunk and context),
:mod:`~fitedge.edge.stream.stream` runs them and emits each frame once, :mod:`~fitedge.edge.stream.source`
opens a stream on a bundle, an artifact file or a model.
"""
