"""Tiny random-weight models, written to disk the way real ones are, for tests and the GPU check.

Nothing here downloads anything: each builder makes a model with a few thousand to a few
hundred thousand random parameters, saves it with the library's own writer, and returns what
the configuration needs to load it back through the project's normal loading code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SAM2_TINY_CONFIG = "configs/sam2.1/sam2.1_hiera_t.yaml"


def _byte_level_vocab() -> dict[str, int]:
    # CLIP's byte-to-unicode table: every byte gets a printable character, so any text
    # tokenizes without merges; plus the word-final variants and the two special tokens.
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    codes, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            codes.append(256 + extra)
            extra += 1
    chars = [chr(c) for c in codes]
    vocab: dict[str, int] = {}
    for token in (*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"):
        vocab[token] = len(vocab)
    return vocab


def build_tiny_inpaint(dest: Path, *, xl: bool = False, seed: int = 0) -> Path:
    """Save a tiny StableDiffusion(XL)InpaintPipeline to ``dest`` and return ``dest``.

    Loads back with ``AutoPipelineForInpainting.from_pretrained(dest)``; 2 steps at 64x64 run
    in about 0.1 s on a CPU core.
    """
    import diffusers
    import torch
    import transformers
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    torch.manual_seed(seed)
    vocab = _byte_level_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    text = CLIPTextConfig(
        vocab_size=len(vocab),
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=16,
        projection_dim=32,
    )
    # Four blocks, so that latents are 1/8 of the image like in real SD/SDXL VAEs.
    vae = AutoencoderKL(  # type: ignore[no-untyped-call]
        block_out_channels=(8, 8, 16, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=32,
    )
    # DDIM for both: EulerDiscreteScheduler (SDXL's usual one) warns under numpy 2.
    scheduler = DDIMScheduler(  # type: ignore[no-untyped-call]
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    unet_common = {
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "sample_size": 8,
        "in_channels": 9,  # 4 latent + 1 mask + 4 masked-image latent
        "out_channels": 4,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (2, 4),
        "norm_num_groups": 8,
    }
    if xl:
        unet = UNet2DConditionModel(  # type: ignore[no-untyped-call]
            **unet_common,
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            transformer_layers_per_block=(1, 1),
            # pooled text (32) + 6 time ids x 8 (no aesthetic score)
            projection_class_embeddings_input_dim=32 + 6 * 8,
            cross_attention_dim=64,  # both text encoders' hidden states side by side
        )
        xl_pipe = StableDiffusionXLInpaintPipeline(  # type: ignore[no-untyped-call]
            vae=vae,
            text_encoder=CLIPTextModel(text),
            text_encoder_2=CLIPTextModelWithProjection(text),
            tokenizer=tokenizer,
            tokenizer_2=tokenizer,
            unet=unet,
            scheduler=scheduler,
            requires_aesthetics_score=False,
            force_zeros_for_empty_prompt=True,
        )
        xl_pipe.save_pretrained(dest)  # type: ignore[attr-defined]
    else:
        unet = UNet2DConditionModel(**unet_common, cross_attention_dim=32)  # type: ignore[no-untyped-call]
        sd_pipe = StableDiffusionInpaintPipeline(  # type: ignore[no-untyped-call]
            vae=vae,
            text_encoder=CLIPTextModel(text),
            tokenizer=tokenizer,
            unet=unet,
            scheduler=scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        sd_pipe.save_pretrained(dest)  # type: ignore[attr-defined]
    return dest


@dataclass(frozen=True)
class TinySam2:
    config: str  # name inside the sam2 package
    checkpoint: Path
    overrides: tuple[str, ...]


def tiny_sam2_overrides(image_size: int = 128) -> tuple[str, ...]:
    """Hydra overrides that shrink sam2.1_hiera_t to ~650k parameters at ``image_size``."""
    feat = image_size // 16
    return (
        f"++model.image_size={image_size}",
        "++model.image_encoder.trunk.embed_dim=8",
        "++model.image_encoder.trunk.num_heads=1",
        # A global-attention block must not be a stage's first (q-pooling) block.
        "++model.image_encoder.trunk.stages=[1,1,2,1]",
        "++model.image_encoder.trunk.global_att_blocks=[3]",
        "++model.image_encoder.trunk.window_pos_embed_bkg_spatial_size=[4,4]",
        "++model.image_encoder.neck.d_model=32",
        "++model.image_encoder.neck.backbone_channel_list=[64,32,16,8]",
        "++model.image_encoder.neck.position_encoding.num_pos_feats=32",
        "++model.memory_attention.d_model=32",
        "++model.memory_attention.num_layers=1",
        "++model.memory_attention.layer.d_model=32",
        "++model.memory_attention.layer.dim_feedforward=32",
        "++model.memory_attention.layer.self_attention.embedding_dim=32",
        f"++model.memory_attention.layer.self_attention.feat_sizes=[{feat},{feat}]",
        "++model.memory_attention.layer.cross_attention.embedding_dim=32",
        f"++model.memory_attention.layer.cross_attention.feat_sizes=[{feat},{feat}]",
        "++model.memory_attention.layer.cross_attention.kv_in_dim=16",
        "++model.memory_encoder.out_dim=16",
        "++model.memory_encoder.in_dim=32",
        "++model.memory_encoder.position_encoding.num_pos_feats=16",
        "++model.memory_encoder.mask_downsampler.embed_dim=32",
        "++model.memory_encoder.fuser.layer.dim=32",
        "++model.memory_encoder.fuser.num_layers=1",
    )


def build_tiny_sam2(dest: Path, *, image_size: int = 128, seed: int = 0) -> TinySam2:
    """Save a tiny SAM2 checkpoint (state dict under "model", as sam2 expects) in ``dest``."""
    import torch
    from sam2.build_sam import build_sam2  # type: ignore[import-untyped]

    torch.manual_seed(seed)
    overrides = tiny_sam2_overrides(image_size)
    model = build_sam2(SAM2_TINY_CONFIG, None, device="cpu", hydra_overrides_extra=list(overrides))
    dest.mkdir(parents=True, exist_ok=True)
    checkpoint = dest / "sam2_tiny.pt"
    torch.save({"model": model.state_dict()}, checkpoint)
    return TinySam2(config=SAM2_TINY_CONFIG, checkpoint=checkpoint, overrides=overrides)


def build_tiny_rembg(home: Path, *, seed: int = 0) -> Path:
    """Export a tiny conv net to ONNX under ``home`` (a rembg home) and return its path.

    Its output is (1, 1, 320, 320) like U2Net's first output, which rembg's u2net_custom
    session reads as the mask.
    """
    import torch

    class TinyMatte(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.head = torch.nn.Conv2d(4, 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.head(torch.relu(self.conv(x))))

    torch.manual_seed(seed)
    folder = home / "models" / "u2net_custom"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny_matte.onnx"
    torch.onnx.export(
        TinyMatte().eval(),
        (torch.zeros(1, 3, 320, 320),),
        str(path),
        input_names=["input"],
        output_names=["mask"],
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    return path
