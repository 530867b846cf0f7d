"""Fine-tunes the backbone's last blocks and a head on the CUT activations of
scripts/tail-finetune/export.ts (choosing side only: train scenes to learn, val
scenes to pick the epoch). Needs Debian's python3-torch (/usr/bin/python3).

  /usr/bin/python3 scripts/tail-finetune/train.py ARM [SEED [FOLD]]
  (env: TAIL_LR, default 1e-5; EPOCHS, default 12; THREADS, default 2)

ARM: frozen (head only, the control), conv95 (the 1x1 conv to 1280), b16 (+ the
last inverted-residual block), b15 (+ the block before it). Writes
.cache/tail/ARM-sSEED.json: per-epoch losses, the val probabilities at the best
epoch, and the trained tail and head weights. With FOLD (0-4) the train scenes
of that fold are left out and their detections scored (ARM-sSEED-fFOLD.json).

REFIT=1 (exports of `REFIT=1 export.ts`, in .cache/tail-refit/): the recipe refit on all choosing scenes.
No val side: with FOLD the held-out fold's detections are scored after EVERY epoch (refit.ts picks the
epoch count and the decision rule on these out-of-fold scores); without FOLD it trains EPOCHS epochs on
all of them and keeps the last.
"""
import json, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get('THREADS', '2')))
# Learning rate of the tail's weights (the head's is 1e-3).
TAIL_LR = float(os.environ.get('TAIL_LR', '1e-5'))
ARM = sys.argv[1]
# Result name: the arm, plus the tail learning rate when it is not the default.
NAME = ARM + ('' if TAIL_LR == 1e-5 else f'-lr{TAIL_LR:g}')
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 42
# FOLD=k: train without the train scenes of fold k and score their detections (out-of-fold).
FOLD = int(sys.argv[3]) if len(sys.argv) > 3 else None
EPOCHS = int(os.environ.get("EPOCHS", "12"))
REFIT = os.environ.get('REFIT') == '1'
DIR = '.cache/tail-refit' if REFIT else '.cache/tail'
TRAINABLE = {
    'frozen': [],
    'conv95': ['Conv_95_quant'],
    'b16': ['Conv_90_quant', 'Conv_92_quant', 'Conv_94_quant', 'Conv_95_quant'],
    'b15': ['Conv_84_quant', 'Conv_86_quant', 'Conv_88_quant', 'Conv_90_quant', 'Conv_92_quant', 'Conv_94_quant', 'Conv_95_quant'],
}[ARM]
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)

tail = json.load(open(f'{DIR}/tail.json'))
blob = np.fromfile(f'{DIR}/tail.f32', dtype='<f4')
def tensor(name):
    t = tail['tensors'][name]
    return torch.from_numpy(blob[t['offset']:t['offset'] + t['length']].copy()).reshape(t['dims'] or [])

params = {}
for n in tail['nodes']:
    if n['op'] == 'Conv':
        w, b = tensor(n['inputs'][1]), tensor(n['inputs'][2])
        train_it = n['name'] in TRAINABLE
        params[n['name']] = (torch.nn.Parameter(w, requires_grad=train_it), torch.nn.Parameter(b, requires_grad=train_it))

NODES = tail['nodes']
# The nodes before the first trainable conv never change: run them once on all data (no_grad) and keep
# only the tensors the rest of the graph reads; with nothing trainable, keep the pooled map itself.
FIRST = next((k for k, n in enumerate(NODES) if n['name'] in TRAINABLE), len(NODES))
FRONTIER = sorted({i for n in NODES[FIRST:] for i in n['inputs'] if i not in tail['tensors'] and any(m['output'] == i for m in NODES[:FIRST])} | ({tail['cut']} if any(tail['cut'] in n['inputs'] for n in NODES[FIRST:]) else set()))

def run_nodes(env, nodes):
    for n in nodes:
        i = n['inputs']
        if n['op'] == 'Conv':
            w, b = params[n['name']]
            a = n['attrs']
            pads = a.get('pads', [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3]
            env[n['output']] = F.conv2d(env[i[0]], w, b, stride=tuple(a.get('strides', [1, 1])), padding=(pads[0], pads[1]), groups=a.get('group', 1) or 1)
        elif n['op'] == 'Clip':
            env[n['output']] = torch.clamp(env[i[0]], float(tensor(i[1])), float(tensor(i[2])))
        elif n['op'] == 'Add':
            env[n['output']] = env[i[0]] + env[i[1]]
        else:
            raise ValueError(n['op'])
    return env

def prefix(x):
    """Frozen part, batched: {tensor: values} of the frontier (or {'pooled': …} when nothing is trained)."""
    parts = []
    with torch.no_grad():
        for k in range(0, len(x), 256):
            env = run_nodes({tail['cut']: x[k:k + 256]}, NODES[:FIRST])
            parts.append({'pooled': env[tail['output']].mean(dim=(2, 3))} if FIRST == len(NODES) else {t: env[t] for t in FRONTIER})
    return {t: torch.cat([p[t] for p in parts]) for t in parts[0]}

def run_tail(pre, idx):
    if FIRST == len(NODES):
        return pre['pooled'][idx]
    env = run_nodes({t: v[idx] for t, v in pre.items()}, NODES[FIRST:])
    return env[tail['output']].mean(dim=(2, 3))

head = torch.nn.Sequential(torch.nn.Linear(1280, 64), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(64, 3))

def load(name):
    meta = json.load(open(f'{DIR}/{name}.json'))
    x = np.fromfile(f'{DIR}/{name}.f32', dtype='<f4').reshape(-1, *meta['dim'])
    return torch.from_numpy(x), meta['rows']

def balanced(y):
    y = np.asarray(y)
    mass = np.bincount(y, minlength=3).astype(np.float64)
    return torch.tensor([len(y) / (3 * mass[c]) for c in y], dtype=torch.float32)

xtr, rtr = load('train')
if FOLD is not None:
    keep = [i for i, r in enumerate(rtr) if r['fold'] != FOLD]
    xtr, rtr = xtr[keep], [rtr[i] for i in keep]
    xoof, roof = load('train-dets')
    held = [i for i, r in enumerate(roof) if r['fold'] == FOLD]
    xoof = xoof[held]
ytr = torch.tensor([r['y'] for r in rtr])
wtr = balanced([r['y'] for r in rtr])
if REFIT:
    # The held-out fold's detections stand in for val (out-of-fold); the final refit has none.
    xva, rva = (xoof, [roof[i] for i in held]) if FOLD is not None else (None, [])
else:
    xva, rva = load('val')
lab = [i for i, r in enumerate(rva) if r['y'] is not None]
yva = torch.tensor([rva[i]['y'] for i in lab])
wva = balanced([rva[i]['y'] for i in lab]) if lab else None

tail_params = [p for pair in params.values() for p in pair if p.requires_grad]
opt = torch.optim.Adam([
    {'params': head.parameters(), 'lr': 1e-3, 'weight_decay': 1e-4},
    {'params': tail_params, 'lr': TAIL_LR, 'weight_decay': 0},
])

def predict(pre):
    head.eval()
    n = len(next(iter(pre.values())))
    with torch.no_grad():
        return torch.cat([F.softmax(head(run_tail(pre, torch.arange(i, min(n, i + 256)))), dim=1) for i in range(0, n, 256)])

xtr, xva = prefix(xtr), (prefix(xva) if len(rva) else None)
if FOLD is not None and not REFIT:
    xoof = prefix(xoof)

def val_loss(p):
    pl = p[lab]
    ce = -torch.log(pl[torch.arange(len(lab)), yva].clamp_min(1e-7))
    return float((wva * ce).sum() / wva.sum())

history, best = [], None
for epoch in range(EPOCHS):
    t0 = time.time()
    head.train()
    order = torch.from_numpy(rng.permutation(len(rtr)))
    total = 0.0
    for k in range(0, len(order), 64):
        idx = order[k:k + 64]
        logits = head(run_tail(xtr, idx))
        loss = (wtr[idx] * F.cross_entropy(logits, ytr[idx], reduction='none')).sum() / wtr[idx].sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss) * len(idx)
    p = predict(xva) if len(rva) else None
    vl = val_loss(p) if p is not None else None
    history.append({'epoch': epoch + 1, 'trainLoss': total / len(rtr), 'valLoss': vl, 'seconds': round(time.time() - t0, 1),
                    **({'probs': p.numpy().round(6).tolist()} if REFIT and p is not None else {})})
    print(json.dumps({k: v for k, v in history[-1].items() if k != 'probs'}), file=sys.stderr, flush=True)
    if REFIT and epoch + 1 < EPOCHS:
        continue
    if REFIT or best is None or vl < best['valLoss']:
        best = {'epoch': epoch + 1, 'valLoss': vl, 'probs': p.numpy().round(6).tolist() if p is not None else None,
                **({'oofRows': held} if FOLD is not None else {}),
                **({'oofProbs': predict(xoof).numpy().round(6).tolist()} if FOLD is not None and not REFIT else {}),
                'tail': {name: {'w': w.detach().numpy().ravel().tolist(), 'b': b.detach().numpy().ravel().tolist()} for name, (w, b) in params.items() if name in TRAINABLE},
                'head': {k: v.detach().numpy().tolist() for k, v in head.state_dict().items()}}

json.dump({'arm': NAME, 'seed': SEED, 'tailLr': TAIL_LR, 'history': history, 'best': best}, open(f'{DIR}/{NAME}-s{SEED}' + (f'-f{FOLD}' if FOLD is not None else '') + '.json', 'w'))
print(json.dumps({'arm': NAME, 'seed': SEED, 'fold': FOLD, 'bestEpoch': best['epoch'], 'valLoss': best['valLoss']}))
