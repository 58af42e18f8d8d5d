"""The camera: the interface the kiosk uses and the OpenCV driver.

    interface.py    ``Camera``: frames (NumPy BGR) and health; ``CameraUnavailable``
    opencv.py       ``OpenCVCamera``: a USB or built-in camera through V4L2

The simulator is devices/simulated/camera.py; devices/factory.py picks one from config.
"""
