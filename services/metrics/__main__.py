from services.metrics.app import build_app
from services.metrics.settings import MetricsSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(MetricsSettings(), build_app)
