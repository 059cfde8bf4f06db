"""Scripts run by the side venvs' pythons (``bench/venvs.py``): standard library, cv2, numpy and fer only."""
