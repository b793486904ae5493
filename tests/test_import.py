import subprocess
import sys


def test_import_is_light():
    """``import lipanomaly`` must not pull torch, MediaPipe, OpenCV or antropy."""
    code = (
        "import sys, lipanomaly; "
        "heavy = ('torch', 'mediapipe', 'cv2', 'antropy', 'numba'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
