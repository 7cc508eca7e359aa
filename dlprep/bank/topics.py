"""The topic map's sections (see TOPICS.md in the project's shared notes).

A card's ``topic`` is one of these slugs; user banks may add their own topics, which
validate with a warning (``--strict`` turns it into a problem).
"""

from __future__ import annotations

from collections.abc import Iterable

# slug: (English title, Korean title); order is the map's order
TOPICS: dict[str, tuple[str, str]] = {
    "training-loop": (
        "Training loop: forward, backward, epochs",
        "학습 루프: 순전파, 역전파, 에폭",
    ),
    "mlp": ("Perceptron → MLP → deep network", "퍼셉트론에서 다층 신경망까지"),
    "activations": ("Activation functions", "활성화 함수"),
    "gradients": ("Vanishing and exploding gradients", "기울기 소실과 폭주"),
    "init": ("Weight initialisation", "가중치 초기화"),
    "optimizers": ("Optimisers and hyperparameters", "옵티마이저와 하이퍼파라미터"),
    "minibatch": ("Mini-batches", "미니배치"),
    "regularization": ("Regularisation and evaluation", "규제와 평가"),
    "gpu": ("GPUs and performance", "GPU와 성능"),
    "memory": ("GPU memory estimation", "GPU 메모리 추정"),
    "beyond-mlp": ("Beyond MLPs", "MLP 너머"),
    "normalization": ("Normalisation layers", "정규화 층"),
    "attention": ("Attention and transformers", "어텐션과 트랜스포머"),
    "sequence": ("Sequence models", "시퀀스 모델"),
    "cnn": ("Convolutional networks", "합성곱 신경망"),
    "metrics": ("Losses, outputs and metrics", "손실, 출력, 평가 지표"),
    "transfer": ("Regularisation and transfer, continued", "규제와 전이 학습 심화"),
    "scale": ("Training at scale", "대규모 학습"),
    "tokens": (
        "Tokens, decoding and evaluation of language models",
        "토큰, 디코딩, 언어 모델 평가",
    ),
    "transformer-blocks": ("Modern transformer blocks", "현대 트랜스포머 블록"),
    "moe-scaling": ("Mixture of experts and scaling", "전문가 혼합과 스케일링"),
    "post-training": ("Post-training and adaptation", "사후 학습과 적응"),
    "inference": ("Inference and serving", "추론과 서빙"),
    "model-families": ("Other model families", "그 밖의 모델 계열"),
}

# Titles of at most 16 terminal cells, for lists on an 80-column terminal where a cut-off
# title would leave two rows reading the same ("Regularisation…" twice).
SHORT_TITLES: dict[str, tuple[str, str]] = {
    "training-loop": ("Training loop", "학습 루프"),
    "mlp": ("Perceptron → MLP", "퍼셉트론과 MLP"),
    "activations": ("Activations", "활성화 함수"),
    "gradients": ("Vanishing grads", "기울기 소실·폭주"),
    "init": ("Weight init", "가중치 초기화"),
    "optimizers": ("Optimisers", "옵티마이저"),
    "regularization": ("Regularisation", "규제와 평가"),
    "gpu": ("GPU performance", "GPU와 성능"),
    "memory": ("GPU memory", "GPU 메모리 추정"),
    "normalization": ("Normalisation", "정규화 층"),
    "attention": ("Attention", "어텐션"),
    "cnn": ("Conv networks", "합성곱 신경망"),
    "metrics": ("Losses, metrics", "손실과 평가 지표"),
    "transfer": ("Transfer & reg.", "전이 학습"),
    "scale": ("Large-scale runs", "대규모 학습"),
    "tokens": ("Tokens, decoding", "토큰과 디코딩"),
    "transformer-blocks": ("Modern blocks", "트랜스포머 블록"),
    "moe-scaling": ("MoE and scaling", "MoE와 스케일링"),
    "post-training": ("Post-training", "사후 학습과 적응"),
    "inference": ("Inference", "추론과 서빙"),
    "model-families": ("Model families", "그 밖의 모델"),
}


def topic_title(slug: str, lang: str = "en") -> str:
    titles = TOPICS.get(slug)
    if titles is None:
        return slug
    return titles[1] if lang == "ko" else titles[0]


def in_map_order(slugs: Iterable[str]) -> list[str]:
    """Distinct topics in the topic map's order, then any others (user banks) alphabetically."""
    present = set(slugs)
    return [t for t in TOPICS if t in present] + sorted(present - set(TOPICS))


def short_title(slug: str, lang: str = "en") -> str:
    """The title, or its short form where there is one (for a narrow list)."""
    titles = SHORT_TITLES.get(slug)
    if titles is None:
        return topic_title(slug, lang)
    return titles[1] if lang == "ko" else titles[0]
