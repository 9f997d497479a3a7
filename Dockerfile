# CPU image of the face attribute editor: docker build -t ifcvae-editor . && docker run -p 7860:7860 ifcvae-editor
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_WAIT_POLICY=PASSIVE \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860

RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/editor

# Dependencies before code, so their layers are reused while only code or weights change.
# CPU-only torch first, from PyTorch's CPU index at requirements.txt's versions (tests/test_shipping.py
# checks they agree); the install of requirements.txt then finds torch satisfied and pulls no CUDA. It
# also installs dlib (dlib-bin) and its face-recognition model files (face-recognition-models), so the
# app's "Same person?" check is in the image.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1
COPY requirements.txt .
RUN pip install -r requirements.txt

# Code, examples, the shipped weights and the strict judge (.dockerignore lets nothing else in), owned by
# root: the app's user can read them but not change them. The app checks each edit with the strict judge
# and with dlib's identity check.
COPY . .
USER app
# Fail the build, not the first request, when the baked-in checkpoint, its region editors or the strict
# judge is missing or broken, or dlib or its model files do not load (the app would run without the
# identity check).
RUN python -c "from model import IFcVAEGAN; from model.strict_judge import StrictJudge; \
from model.identity import FaceEmbedder; from model.regions import RegionEditor; \
IFcVAEGAN.load('weights'); RegionEditor.load_all('weights'); StrictJudge.load('strict_judge'); FaceEmbedder()"

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"]
CMD ["python", "app.py"]
