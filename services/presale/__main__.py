from services.presale.app import build_app
from services.presale.settings import PresaleSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(PresaleSettings(), build_app, fast_loop=True)
