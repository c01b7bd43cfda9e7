#!/usr/bin/env python3
"""
Independent float64 reference of SigLIP's forward pass in numpy, following transformers' modeling_siglip.py
(v4.44) step by step, for checkpoints too large for the committed fixtures (e.g. `siglip-webgpu synth` output).
A development tool: the tests do not need it. Validate it first on a fixture, whose references come from
transformers itself:

  /usr/bin/python3 scripts/reference_forward.py --model test/fixtures/siglip-odd \
      --inputs test/fixtures/siglip-odd/reference.safetensors --out /tmp/ref.safetensors \
      --check test/fixtures/siglip-odd/reference_f64.safetensors

Then on a full-size synthetic model, compare with the engine's `forward` output:

  /usr/bin/python3 scripts/reference_forward.py --model /tmp/large --inputs in.safetensors --out ref.safetensors \
      --check ours.safetensors
"""
import argparse, json, struct, sys
import numpy as np

DT = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I32": np.int32, "I64": np.int64, "BF16": np.uint16}


def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, e in header.items():
            if name == "__metadata__":
                continue
            b, end = e["data_offsets"]
            arr = np.fromfile(path, dtype=DT[e["dtype"]], count=(end - b) // np.dtype(DT[e["dtype"]]).itemsize, offset=base + b)
            if e["dtype"] == "BF16":
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            out[name] = arr.reshape(e["shape"])
        return out


def write_st(path, tensors):
    header, off, blobs = {}, 0, []
    for k, v in tensors.items():
        v = np.ascontiguousarray(v, dtype=np.float32)
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + v.nbytes]}
        off += v.nbytes
        blobs.append(v.tobytes())
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def layer_norm(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def linear(x, W, prefix):
    return x @ W[prefix + ".weight"].T + W[prefix + ".bias"]


def mha(q, k, v, heads):
    B, Lq, D = q.shape
    Lk = k.shape[1]
    hd = D // heads
    q = q.reshape(B, Lq, heads, hd).transpose(0, 2, 1, 3)
    k = k.reshape(B, Lk, heads, hd).transpose(0, 2, 1, 3)
    v = v.reshape(B, Lk, heads, hd).transpose(0, 2, 1, 3)
    s = q @ k.transpose(0, 1, 3, 2) * hd ** -0.5
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    return (s @ v).transpose(0, 2, 1, 3).reshape(B, Lq, D)


def encoder(x, W, prefix, c, out, name):
    eps = c.get("layer_norm_eps", 1e-6)
    heads = c["num_attention_heads"]
    out[f"{name}.hidden_states.0"] = x
    for i in range(c["num_hidden_layers"]):
        p = f"{prefix}.encoder.layers.{i}"
        h = layer_norm(x, W[p + ".layer_norm1.weight"], W[p + ".layer_norm1.bias"], eps)
        a = mha(linear(h, W, p + ".self_attn.q_proj"), linear(h, W, p + ".self_attn.k_proj"), linear(h, W, p + ".self_attn.v_proj"), heads)
        x = x + linear(a, W, p + ".self_attn.out_proj")
        h = layer_norm(x, W[p + ".layer_norm2.weight"], W[p + ".layer_norm2.bias"], eps)
        x = x + linear(gelu_tanh(linear(h, W, p + ".mlp.fc1")), W, p + ".mlp.fc2")
        out[f"{name}.hidden_states.{i + 1}"] = x
    return x


def vision(pixels, W, c, out):
    P = c["patch_size"]
    B, C, H, Wd = pixels.shape
    conv = W["vision_model.embeddings.patch_embedding.weight"]
    pixels = pixels[:, :, : H // P * P, : Wd // P * P]  # Conv2d(stride = P) drops the remainder
    H, Wd = pixels.shape[2:]
    patches = pixels.reshape(B, C, H // P, P, Wd // P, P).transpose(0, 2, 4, 1, 3, 5).reshape(B, -1, C * P * P)
    x = patches @ conv.reshape(conv.shape[0], -1).T + W["vision_model.embeddings.patch_embedding.bias"]
    x = x + W["vision_model.embeddings.position_embedding.weight"][None]
    x = encoder(x, W, "vision_model", c, out, "vision")
    eps = c.get("layer_norm_eps", 1e-6)
    last = layer_norm(x, W["vision_model.post_layernorm.weight"], W["vision_model.post_layernorm.bias"], eps)
    out["vision.last_hidden_state"] = last
    D = last.shape[-1]
    h = "vision_model.head"
    ipw, ipb = W[h + ".attention.in_proj_weight"], W[h + ".attention.in_proj_bias"]
    probe = np.repeat(W[h + ".probe"], B, axis=0)
    q = probe @ ipw[:D].T + ipb[:D]
    k = last @ ipw[D:2 * D].T + ipb[D:2 * D]
    v = last @ ipw[2 * D:].T + ipb[2 * D:]
    o = linear(mha(q, k, v, c["num_attention_heads"]), W, h + ".attention.out_proj")
    y = o + linear(gelu_tanh(linear(layer_norm(o, W[h + ".layernorm.weight"], W[h + ".layernorm.bias"], eps), W, h + ".mlp.fc1")), W, h + ".mlp.fc2")
    out["vision.pooler_output"] = y[:, 0]


def text(ids, W, c, out):
    L = ids.shape[1]
    x = W["text_model.embeddings.token_embedding.weight"][ids] + W["text_model.embeddings.position_embedding.weight"][:L][None]
    x = encoder(x, W, "text_model", c, out, "text")
    last = layer_norm(x, W["text_model.final_layer_norm.weight"], W["text_model.final_layer_norm.bias"], c.get("layer_norm_eps", 1e-6))
    out["text.last_hidden_state"] = last
    out["text.pooler_output"] = linear(last[:, -1], W, "text_model.head")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out")
    ap.add_argument("--check", help="compare with this safetensors (same names) and print relative errors")
    a = ap.parse_args()
    cfg = json.load(open(a.model + "/config.json"))
    W = {k: v.astype(np.float64) for k, v in read_st(a.model + "/model.safetensors").items()}
    inp = read_st(a.inputs)
    out = {}
    if "pixel_values" in inp:
        vision(inp["pixel_values"].astype(np.float64), W, cfg["vision_config"], out)
        out["image_embeds"] = out["vision.pooler_output"] / np.linalg.norm(out["vision.pooler_output"], axis=-1, keepdims=True)
    if "input_ids" in inp:
        text(inp["input_ids"].astype(np.int64), W, cfg["text_config"], out)
        out["text_embeds"] = out["text.pooler_output"] / np.linalg.norm(out["text.pooler_output"], axis=-1, keepdims=True)
    if "image_embeds" in out and "text_embeds" in out:
        lpt = out["text_embeds"] @ out["image_embeds"].T * np.exp(W["logit_scale"].item()) + W["logit_bias"].item()
        out["logits_per_text"], out["logits_per_image"] = lpt, lpt.T
    if a.out:
        write_st(a.out, out)
    if a.check:
        other = read_st(a.check)
        worst = 0.0
        for k in sorted(other):
            if k not in out:
                continue
            r = np.linalg.norm(other[k].astype(np.float64) - out[k]) / np.linalg.norm(out[k])
            worst = max(worst, r) if not k.startswith(("vision.hidden", "text.hidden")) else worst
            print(f"{k:34s} rel {r:.2e}  max|d| {np.abs(other[k] - out[k]).max():.2e}")
        print(f"worst relative error over the named outputs: {worst:.2e}")


if __name__ == "__main__":
    sys.exit(main())
