"""Hardware behind small interfaces (card reader, camera, printer), each with a simulator."""
