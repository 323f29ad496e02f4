"""The models your keys can use, with what each can do.

python examples/models.py
"""

from __future__ import annotations

from kimi_gateway import Kimi


def main() -> None:
    with Kimi() as kimi:
        for model in kimi.models():
            window = f"{model.context_window:,}" if model.context_window else "?"
            takes = " ".join(
                name
                for name, on in (("images", model.image_input), ("video", model.video_input))
                if on
            )
            thinking = f"thinking {model.thinking}"
            print(f"{model.id:30} {model.product:9} {window:>9} tokens  {thinking:20} {takes}")


if __name__ == "__main__":
    main()
