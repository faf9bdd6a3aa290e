from services.aftersale.app import build_app
from services.aftersale.settings import AftersaleSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(AftersaleSettings(), build_app, fast_loop=True)
