"""The PyTorch column of `npm run bench`: gpt-ref written in PyTorch and trained on random tokens.

Same model and step as bench/plain-tfjs.ts: vocabulary 263, d_model 128, 4 pre-LayerNorm blocks with biased
causal multi-head attention (4 heads) and an exact-erf GELU FFN x4, learned positions, final LayerNorm, head
tied to the token embedding, mean cross-entropy, global-norm clipping at 1, AdamW (lr 1e-3, weight decay 0.01).
Batch 16 x seq 128.

    python3 bench/torch-gpt.py --steps 6 --warmup 2 --threads 1

Prints one JSON line: tokens/s, ms/step (forward+backward+update), the forward pass alone, threads, parameter
count (plugformer's gpt-ref has 843 392), torch version.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

VOCAB, D, LAYERS, HEADS, FF, SEQ, BATCH = 263, 128, 4, 4, 512, 128, 16


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(D)
        self.qkv = torch.nn.Linear(D, 3 * D)
        self.out = torch.nn.Linear(D, D)
        self.ln2 = torch.nn.LayerNorm(D)
        self.up = torch.nn.Linear(D, FF)
        self.down = torch.nn.Linear(FF, D)

    def forward(self, h, mask):
        b, t, _ = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(D, dim=-1)
        heads = lambda x: x.view(b, t, HEADS, D // HEADS).transpose(1, 2)
        scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(D // HEADS) + mask
        context = (scores.softmax(-1) @ heads(v)).transpose(1, 2).reshape(b, t, D)
        h = h + self.out(context)
        return h + self.down(F.gelu(self.up(self.ln2(h))))


class Gpt(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, D)
        self.pos = torch.nn.Parameter(torch.randn(SEQ, D) * 0.02)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = torch.nn.LayerNorm(D)
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
        self.register_buffer("mask", torch.full((SEQ, SEQ), -1e9).triu(1))

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos
        for block in self.blocks:
            h = block(h, self.mask)
        return self.ln(h) @ self.embed.weight.T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Gpt()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    step_s = forward_s = 0.0
    for s in range(args.warmup + args.steps):
        tokens = torch.randint(0, VOCAB, (BATCH, SEQ))
        targets = torch.randint(0, VOCAB, (BATCH, SEQ))
        t0 = time.perf_counter()
        with torch.no_grad():
            F.cross_entropy(model(tokens).view(-1, VOCAB), targets.view(-1)).item()
        t1 = time.perf_counter()
        loss = F.cross_entropy(model(tokens).view(-1, VOCAB), targets.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        t2 = time.perf_counter()
        if s >= args.warmup:
            forward_s += t1 - t0
            step_s += t2 - t1
    ms = 1000 * step_s / args.steps
    print(json.dumps({
        "tokensPerSecond": BATCH * SEQ / (ms / 1000),
        "stepMs": ms,
        "forwardMs": 1000 * forward_s / args.steps,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
