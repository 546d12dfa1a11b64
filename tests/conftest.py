# the `backend` fixture (every available backend × float32/float64, or those named by
# --bioplast-backend) comes from bioplast's pytest plugin
pytest_plugins = ["bioplast.testing.plugin"]
