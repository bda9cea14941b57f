"""An independent PyTorch encoder-decoder trained on the exact rows plugformer trains on, to tell a plugformer bug
from a property of the model, data and budget (docs/objectives.md, "Encoder-decoder examples on Brown").

    npx tsx test/plugins/objectives/dump-pairs.ts examples/t5-tiny.json 1500 t5-pairs.json
    python3 test/plugins/objectives/pytorch-seq2seq.py t5-pairs.json --model t5 --lr 3e-3

--model t5: pre-RMSNorm blocks without biases, ReLU FFN, T5 relative position bias (32 buckets, max distance
128, one table per stack shared by its layers), final RMSNorm per stack, one token table shared by both stacks
and the LM head. --model bart: torch.nn.Transformer (post-LN, or pre-LN with --norm pre) with GELU, learned
positions per stack and an optional LayerNorm on the embeddings (--embedding-norm), tied head. Both: d_model
128, 3 + 3 layers, 4 heads, FFN 512, no dropout; AdamW (weight decay 0.01 on matrices), linear warmup over 30
steps then cosine decay to 0 at the last step, global-norm clipping at 1 -- as plugformer's trainer does.

Init: every matrix N(0, --init-std) (plugformer's default is 0.02; it also scales attention output projections
by 1/sqrt(2 L), which this script does not), biases 0, norm gains 1. --init t5 uses T5's own scheme instead:
token table N(0, 1), relative-bias tables N(0, d_model^-1/2), every other matrix N(0, 1/sqrt(fan_in)), decoder output scaled by d_model^-1/2 before the
tied head.

Every --every steps prints one JSON line: the mean training loss since the last line, the teacher-forced loss on
the dumped test rows, and on the tokens inside the target spans (every non-special target token): arg-max
accuracy, the accuracy of always answering the most frequent training token, the NLL, the NLL when each row's
encoder reads the next row's input instead (equal NLLs: the decoder ignores its encoder), and the mean cosine
between the encoder's output rows (near 1: every position carries the same vector).
"""
import argparse
import json
import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings('ignore', message='.*nested tensors.*')
p = argparse.ArgumentParser()
p.add_argument('pairs')
p.add_argument('--model', choices=['t5', 'bart'], default='t5')
p.add_argument('--norm', choices=['pre', 'post'], default='post', help='bart only')
p.add_argument('--embedding-norm', action='store_true', help='bart only: LayerNorm on the summed embeddings')
p.add_argument('--init', default='0.02', help="'t5', or the std of every matrix")
p.add_argument('--lr', type=float, default=3e-3)
p.add_argument('--steps', type=int, default=0, help='default: every dumped training batch once')
p.add_argument('--every', type=int, default=250)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
DATA = json.load(open(a.pairs))
V, PAD, BOS = DATA['vocab'], DATA['pad'], DATA['bos']
SPECIALS = torch.tensor(DATA['specials'])
D, LAYERS, HEADS, FF = 128, 3, 4, 512
STEPS = a.steps or len(DATA['train'])


def t5_bucket(relative, bidirectional, buckets=32, max_distance=128):
    """T5's _relative_position_bucket for relative = key - query."""
    n, offset = -relative, torch.zeros_like(relative)
    if bidirectional:
        buckets //= 2
        offset = (n < 0).long() * buckets
        n = n.abs()
    else:
        n = n.clamp(min=0)
    exact = buckets // 2
    log = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (buckets - exact)).long()
    return offset + torch.where(n < exact, n, log.clamp(max=buckets - 1))


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D, bias=False) for _ in range(4))

    def forward(self, x, memory, bias=None, mask=None):
        b, t, s = x.shape[0], x.shape[1], memory.shape[1]
        split = lambda h, n: h.view(b, n, HEADS, D // HEADS).transpose(1, 2)
        logits = split(self.q(x), t) @ split(self.k(memory), s).transpose(-1, -2) / math.sqrt(D // HEADS)
        if bias is not None:
            logits = logits + bias
        if mask is not None:
            logits = logits.masked_fill(~mask, -1e9)
        return self.o((logits.softmax(-1) @ split(self.v(memory), s)).transpose(1, 2).reshape(b, t, D))


class T5Block(nn.Module):
    def __init__(self, cross):
        super().__init__()
        self.norm1, self.attn, self.norm3 = RMSNorm(), Attention(), RMSNorm()
        self.wi, self.wo = nn.Linear(D, FF, bias=False), nn.Linear(FF, D, bias=False)
        self.has_cross = cross
        if cross:
            self.norm2, self.cross_attn = RMSNorm(), Attention()

    def forward(self, x, bias, mask, memory=None, memory_mask=None):
        h = self.norm1(x)
        x = x + self.attn(h, h, bias, mask)
        if self.has_cross:
            x = x + self.cross_attn(self.norm2(x), memory, None, memory_mask)
        return x + self.wo(F.relu(self.wi(self.norm3(x))))


class T5(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.encoder = nn.ModuleList(T5Block(False) for _ in range(LAYERS))
        self.decoder = nn.ModuleList(T5Block(True) for _ in range(LAYERS))
        self.encoder_bias, self.decoder_bias = nn.Embedding(32, HEADS), nn.Embedding(32, HEADS)
        self.encoder_norm, self.decoder_norm = RMSNorm(), RMSNorm()
        self.head_scale = 1.0

    def relative_bias(self, table, t, bidirectional):
        pos = torch.arange(t)
        return table(t5_bucket(pos[None, :] - pos[:, None], bidirectional)).permute(2, 0, 1)[None]

    def encode(self, src, pad):
        x, bias, visible = self.embed(src), self.relative_bias(self.encoder_bias, src.shape[1], True), ~pad[:, None, None, :]
        for block in self.encoder:
            x = block(x, bias, visible)
        return self.encoder_norm(x)

    def decode(self, tgt_in, memory, pad):
        y, t = self.embed(tgt_in), tgt_in.shape[1]
        bias, causal = self.relative_bias(self.decoder_bias, t, False), torch.tril(torch.ones(t, t, dtype=torch.bool))[None, None]
        for block in self.decoder:
            y = block(y, bias, causal, memory, ~pad[:, None, None, :])
        return self.decoder_norm(y) * self.head_scale @ self.embed.weight.t()


class Bart(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.encoder_pos, self.decoder_pos = nn.Embedding(128, D), nn.Embedding(128, D)
        self.encoder_embed_norm = nn.LayerNorm(D) if a.embedding_norm else nn.Identity()
        self.decoder_embed_norm = nn.LayerNorm(D) if a.embedding_norm else nn.Identity()
        self.t = nn.Transformer(D, HEADS, LAYERS, LAYERS, FF, dropout=0.0, activation='gelu', batch_first=True, norm_first=a.norm == 'pre')

    def encode(self, src, pad):
        x = self.encoder_embed_norm(self.embed(src) + self.encoder_pos(torch.arange(src.shape[1]))[None])
        return self.t.encoder(x, src_key_padding_mask=pad)

    def decode(self, tgt_in, memory, pad):
        t = tgt_in.shape[1]
        y = self.decoder_embed_norm(self.embed(tgt_in) + self.decoder_pos(torch.arange(t))[None])
        h = self.t.decoder(y, memory, tgt_mask=self.t.generate_square_subsequent_mask(t), memory_key_padding_mask=pad)
        return h @ self.embed.weight.t()


model = T5() if a.model == 't5' else Bart()
for name, w in model.named_parameters():
    if w.dim() < 2:
        if not name.endswith('weight') or 'norm' not in name:
            nn.init.zeros_(w)
    elif a.init == 't5':
        nn.init.normal_(w, 0, 1.0 if name.startswith('embed.') else D ** -0.5 if name.endswith('_bias.weight') else w.shape[1] ** -0.5)
    else:
        nn.init.normal_(w, 0, float(a.init))
if a.init == 't5':
    if a.model != 't5':
        raise SystemExit('--init t5 is for --model t5')
    model.head_scale = D ** -0.5


def batch(rows):
    ls, lt = max(len(x) for x, _ in rows), max(len(y) for _, y in rows)
    src, tgt = torch.full((len(rows), ls), PAD), torch.full((len(rows), lt), PAD)
    for i, (x, y) in enumerate(rows):
        src[i, : len(x)], tgt[i, : len(y)] = torch.tensor(x), torch.tensor(y)
    return src, src == PAD, torch.cat([torch.full((len(rows), 1), BOS), tgt[:, :-1]], 1), tgt, tgt != PAD


def token_nll(logits, tgt):
    return F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), reduction='none').view(tgt.shape)


def evaluate():
    model.eval()
    n = loss = tokens = right = frequent = nll = swapped = cosine = 0.0
    with torch.no_grad():
        for rows in DATA['test']:
            src, pad, tgt_in, tgt, real = batch(rows)
            memory = model.encode(src, pad)
            logits = model.decode(tgt_in, memory, pad)
            own = token_nll(logits, tgt)
            other = token_nll(model.decode(tgt_in, memory.roll(-1, 0), pad.roll(-1, 0)), tgt)
            span = real & ~torch.isin(tgt, SPECIALS)
            loss += (own * real).sum().item() / real.sum().item()
            tokens += span.sum().item()
            right += ((logits.argmax(-1) == tgt) & span).sum().item()
            frequent += ((tgt == DATA['mostFrequent']) & span).sum().item()
            nll += (own * span).sum().item()
            swapped += (other * span).sum().item()
            unit = F.normalize(memory, dim=-1)
            cosine += (unit @ unit.transpose(1, 2)).mean().item()
            n += 1
    model.train()
    return {'test_loss': round(loss / n, 4), 'span_accuracy': round(right / tokens, 4), 'most_frequent_accuracy': round(frequent / tokens, 4),
            'span_nll': round(nll / tokens, 4), 'span_nll_other_input': round(swapped / tokens, 4), 'encoder_row_cosine': round(cosine / n, 4)}


matrices = [w for w in model.parameters() if w.dim() >= 2]
vectors = [w for w in model.parameters() if w.dim() < 2]
optimizer = torch.optim.AdamW([{'params': matrices, 'weight_decay': 0.01}, {'params': vectors, 'weight_decay': 0.0}], lr=a.lr)
warmup = 30
schedule = lambda s: a.lr * (s + 1) / warmup if s < warmup else a.lr * 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, STEPS - warmup)))
print(json.dumps({'pairs': DATA['config'], 'model': a.model, 'init': a.init, 'lr': a.lr, 'steps': STEPS, 'parameters': sum(w.numel() for w in model.parameters()), 'torch': torch.__version__}), flush=True)
since = []
for step in range(STEPS):
    for group in optimizer.param_groups:
        group['lr'] = schedule(step)
    src, pad, tgt_in, tgt, real = batch(DATA['train'][step % len(DATA['train'])])
    loss = (token_nll(model.decode(tgt_in, model.encode(src, pad), pad), tgt) * real).sum() / real.sum()
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    since.append(loss.item())
    if (step + 1) % a.every == 0 or step + 1 == STEPS:
        print(json.dumps({'step': step + 1, 'train_loss': round(sum(since) / len(since), 4), **evaluate()}), flush=True)
        since = []
