"""A one-layer bidirectional LSTM's final states on the CPU, without padding or packing overhead.

What ``nn.LSTM(bidirectional=True)`` over a packed batch computes (the final hidden state of each
direction at each sequence's own length), with the same parameters, in a form that is fast on
one CPU thread:

- the rows are sorted by length (longest first), so at step ``t`` the rows still running are
  the first ``n_t``: every step works on a prefix, no padded frame is ever computed;
- the reverse direction reads each sequence reversed within its own length, so both directions
  run the same steps on the same rows and each step is one batched product for both;
- the input projection of all frames is one matrix product per direction before the loop;
- the backward pass is written by hand (a custom autograd function): back-propagation through
  time over the stored gate activations, with the weight gradients as one product each over all
  steps. Autograd through the packed ``nn.LSTM`` on the CPU instead records dozens of small ops
  per step and zero-fills a full-size gradient for every slice of the packed data (profiled:
  ``fill_`` and ``add_`` took 45% of an epoch).

Gate order and parameters are ``nn.LSTM``'s (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0`` and their ``_reverse``), so checkpoints are unchanged. Tests compare embeddings
and every gradient with ``nn.LSTM`` on a packed batch (float64: equal to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class StepPlan:
    """Where each (step, row) of a length-sorted batch lives in the time-major packed layout."""

    order: np.ndarray        # batch rows, longest first (stable)
    counts: list[int]        # rows still running at each step
    offsets: list[int]       # first packed slot of each step
    forward_index: np.ndarray    # packed slot -> flat index into (B * T) frames, forward direction
    reverse_index: np.ndarray    # the same, each sequence read backwards from its last frame
    previous: np.ndarray     # packed slot -> 1 + slot of the same row at the step before (0: initial state)
    final: np.ndarray        # sorted row -> slot of its last step


def step_plan(lengths: np.ndarray, width: int) -> StepPlan:
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    steps = np.arange(int(sorted_lengths[0]))
    running = steps[:, None] < sorted_lengths[None, :]                  # (T, B), time-major
    counts = running.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    t, b = np.nonzero(running)
    rows = order[b]
    previous = np.where(t > 0, offsets[np.maximum(t - 1, 0)] + b + 1, 0)
    return StepPlan(order=order, counts=counts.tolist(), offsets=offsets.tolist(),
                    forward_index=rows * width + t, reverse_index=rows * width + (sorted_lengths[b] - 1 - t),
                    previous=previous, final=offsets[sorted_lengths - 1] + np.arange(len(order)))


class _BiLstmFinal(torch.autograd.Function):
    """Packed inputs of both directions -> (2, B, H) final hidden states, rows in length order."""

    @staticmethod
    def forward(ctx, xf, xr, w_ih, w_hh, bias, plan: StepPlan, previous, final):
        hidden = w_hh.shape[2]
        counts, offsets = plan.counts, plan.offsets
        # The g gate's rows scaled by 2: one sigmoid serves all four gates, tanh(z) = 2 sigmoid(2z) - 1.
        scale = torch.ones(4 * hidden, dtype=xf.dtype, device=xf.device)
        scale[2 * hidden:3 * hidden] = 2.0
        slots = xf.shape[0]
        acts = xf.new_empty(2, slots, 4 * hidden)
        for direction, x in enumerate((xf, xr)):
            torch.addmm(bias[direction] * scale, x, (w_ih[direction] * scale[:, None]).t().contiguous(),
                        out=acts[direction])
        w_hh_t = (w_hh * scale[:, None]).transpose(1, 2).contiguous()   # (2, H, 4H)
        hs = xf.new_zeros(2, slots + 1, hidden)      # slot 0: the initial state
        cs = xf.new_zeros(2, slots + 1, hidden)
        gs = xf.new_empty(2, slots, hidden)          # tanh of the g gate
        tcs = xf.new_empty(2, slots, hidden)         # tanh of the cell
        for t, n in enumerate(counts):
            a, z = offsets[t], offsets[t] + n
            gates = acts[:, a:z]
            if t:
                p = offsets[t - 1] + 1
                gates.baddbmm_(hs[:, p:p + n], w_hh_t)
            gates.sigmoid_()
            i, f, s_g, o = gates.chunk(4, dim=2)
            g = torch.mul(s_g, 2, out=gs[:, a:z]).sub_(1)
            c = torch.mul(i, g, out=cs[:, a + 1:z + 1])
            if t:
                c.addcmul_(f, cs[:, p:p + n])
            tc = torch.mul(c, 2, out=tcs[:, a:z]).sigmoid_().mul_(2).sub_(1)
            torch.mul(o, tc, out=hs[:, a + 1:z + 1])
        ctx.save_for_backward(xf, xr, w_ih, w_hh, acts, hs, cs, gs, tcs, previous)
        ctx.plan = plan
        return hs[:, final + 1]

    @staticmethod
    def backward(ctx, grad):
        xf, xr, w_ih, w_hh, acts, hs, cs, gs, tcs, previous = ctx.saved_tensors
        counts, offsets = ctx.plan.counts, ctx.plan.offsets
        dh = grad.contiguous().clone()    # a row's gradient waits here until the loop reaches its last step
        dc = torch.zeros_like(dh)
        dz = torch.empty_like(acts)       # gradients of the gate pre-activations
        for t in range(len(counts) - 1, -1, -1):
            n = counts[t]
            a, z = offsets[t], offsets[t] + n
            gates = acts[:, a:z]
            i, f, _, o = gates.chunk(4, dim=2)
            g, tc = gs[:, a:z], tcs[:, a:z]
            dh_t, dc_t = dh[:, :n], dc[:, :n]
            u = dz[:, a:z]
            u_i, u_f, u_g, u_o = u.chunk(4, dim=2)
            torch.mul(dh_t, tc, out=u_o)
            dc_t.addcmul_(dh_t * o, torch.mul(tc, tc).sub_(1), value=-1)     # += dh o (1 - tanh^2 c)
            torch.mul(dc_t, g, out=u_i)
            if t:
                p = offsets[t - 1] + 1
                torch.mul(dc_t, cs[:, p:p + n], out=u_f)
            else:
                u_f.zero_()
            torch.mul(dc_t, i, out=u_g).mul_(4)       # d tanh(z) / dz = 4 s (1 - s) with s = sigmoid(2z)
            u.mul_(torch.addcmul(gates, gates, gates, value=-1))             # sigmoid' = s (1 - s)
            dc_t.mul_(f)
            if t:
                dh[:, :n] = torch.bmm(u, w_hh)
        h_before = hs.index_select(1, previous)
        d_w_ih = torch.stack([dz[0].t() @ xf, dz[1].t() @ xr])
        d_w_hh = torch.bmm(dz.transpose(1, 2), h_before)
        d_bias = dz.sum(dim=1)
        d_xf = dz[0] @ w_ih[0] if ctx.needs_input_grad[0] else None
        d_xr = dz[1] @ w_ih[1] if ctx.needs_input_grad[1] else None
        return d_xf, d_xr, d_w_ih, d_w_hh, d_bias, None, None, None


def bilstm_final_states(lstm: torch.nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, input) padded sequences and their lengths -> (B, 2H): the final states of both directions,
    as ``torch.cat([h_n[0], h_n[1]], 1)`` of ``lstm`` over the packed batch (one layer, batch first)."""
    batch, width, features = sequences.shape
    plan = step_plan(lengths.cpu().numpy(), width)
    flat = sequences.reshape(batch * width, features)
    xf = flat.index_select(0, torch.from_numpy(plan.forward_index))
    xr = flat.index_select(0, torch.from_numpy(plan.reverse_index))
    w_ih = torch.stack([lstm.weight_ih_l0, lstm.weight_ih_l0_reverse])
    w_hh = torch.stack([lstm.weight_hh_l0, lstm.weight_hh_l0_reverse])
    bias = torch.stack([lstm.bias_ih_l0 + lstm.bias_hh_l0, lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse])
    final = _BiLstmFinal.apply(xf, xr, w_ih, w_hh, bias, plan, torch.from_numpy(plan.previous),
                               torch.from_numpy(plan.final))
    restore = torch.from_numpy(np.argsort(plan.order, kind="stable"))
    return torch.cat([final[0], final[1]], dim=1).index_select(0, restore)


def supported(lstm: torch.nn.LSTM, sequences: torch.Tensor) -> bool:
    """The CPU path covers one bidirectional layer with biases in float32/float64, autocast off."""
    return (sequences.device.type == "cpu" and lstm.num_layers == 1 and lstm.bidirectional and lstm.bias
            and lstm.batch_first and not lstm.proj_size and sequences.dtype in (torch.float32, torch.float64)
            and lstm.weight_ih_l0.dtype == sequences.dtype and not torch.is_autocast_enabled("cpu"))
