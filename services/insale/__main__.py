from services.insale.app import build_app
from services.insale.settings import InsaleSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(InsaleSettings(), build_app, fast_loop=True)
