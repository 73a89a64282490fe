"""A one-layer bidirectional LSTM on the CPU, without padding or packing overhead.

What ``nn.LSTM(bidirectional=True)`` over a packed batch computes (the final hidden and cell
states of each direction at each sequence's own length, and every step's hidden state when asked
for), with the same parameters, in a form that is fast on one CPU thread. The AWE encoder uses the
final states (:func:`bilstm_final_states`), the Speech2Vec encoder all three (:func:`bilstm`):

- the rows are sorted by length (longest first), so at step ``t`` the rows still running are
  the first ``n_t``: every step works on a prefix, no padded frame is ever computed;
- the reverse direction reads each sequence reversed within its own length, so both directions
  run the same steps on the same rows and each step is one batched product for both;
- each step's product takes the previous hidden state, the frame and a 1 side by side, so one
  product per step gives all gate pre-activations (no input projection of all frames, written and
  read back again) and the weight and bias gradients are one product over all slots;
- the backward pass is written by hand (a custom autograd function): back-propagation through
  time over the stored gate activations. Scalars enter the per-step arithmetic as tensors (a
  Python number costs a conversion per call), and each buffer's per-step views are made in one
  call. Autograd through the packed ``nn.LSTM`` on the CPU instead records dozens of small ops
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
    last_slot: np.ndarray        # sorted row -> slot of its last step
    output_index: np.ndarray     # packed slot -> where its hidden state is kept: the row's slot at the
                                 # next step (its h columns), or S + sorted row after its last step


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
    slots = int(offsets[-1])
    going_on = t + 1 < sorted_lengths[b]
    return StepPlan(order=order, counts=counts.tolist(), offsets=offsets.tolist(),
                    forward_index=rows * width + t, reverse_index=rows * width + (sorted_lengths[b] - 1 - t),
                    last_slot=offsets[sorted_lengths - 1] + np.arange(len(order)),
                    output_index=np.where(going_on, offsets[np.minimum(t + 1, len(counts) - 1)] + b, slots + b))


def _padded(width: int) -> int:
    """Row width of the step inputs: a multiple of 8 floats (measured here: some of the products took
    up to 25% longer with 78 columns than with 80, none shorter; a training step 2-3% faster)."""
    return -(-width // 8) * 8


def _continuing(counts: list[int]) -> tuple[list[int], list[int]]:
    """Per step, how many of its rows go on to the next step (the first ones) and how many end there."""
    going_on = [*counts[1:], 0]
    return going_on, [n - k for n, k in zip(counts, going_on)]


def _parts(counts: list[int]) -> list[int]:
    """Split sizes along the slots: each step's rows that go on, then those that end."""
    return [size for pair in zip(*_continuing(counts)) for size in pair]


def _pairs(pieces):
    """The pieces of a split by :func:`_parts`: (each step's rows that go on, those that end)."""
    return pieces[0::2], pieces[1::2]


def _gate_scale(hidden: int, value: float, like: torch.Tensor) -> torch.Tensor:
    """1 for the i, f, o gates' rows, ``value`` for the g gate's."""
    scale = torch.ones(4 * hidden, dtype=like.dtype, device=like.device)
    scale[2 * hidden:3 * hidden] = value
    return scale


class _BiLstm(torch.autograd.Function):
    """Packed inputs of both directions -> final hidden states, final cell states (each (2, B, H),
    rows in length order) and, when asked for, every step's hidden state ((2, S, H), packed slots;
    else an empty tensor).

    Each packed slot of ``inputs`` (2, S, H + I + 1) holds what its step multiplies: the row's
    previous hidden state (zero at step 0; written by the step before), its frame and a 1, so a
    step's gate pre-activations are one product with the stacked [W_hh; W_ih; bias] (no separate
    input projection: its (S, 4H) result would be written and read again) and the weight
    gradients are one product over all slots. Rows are longest first, so the rows that continue
    from step t are its first ``counts[t + 1]``: each step writes its hidden states straight into
    the next step's slots (and those of the rows that end into the output).
    """

    @staticmethod
    def forward(ctx, xf, xr, w_ih, w_hh, bias, plan: StepPlan, with_states: bool):
        hidden, features = w_hh.shape[2], w_ih.shape[2]
        counts = plan.counts
        slots = xf.shape[0]
        # The g gate's rows scaled by 2: one sigmoid serves all four gates, tanh(z) = 2 sigmoid(2z) - 1.
        width = _padded(hidden + features + 1)
        weights = xf.new_zeros(2, width, 4 * hidden)                        # [W_hh; W_ih; bias; 0]^T
        weights[:, :hidden] = w_hh.transpose(1, 2)
        weights[:, hidden:hidden + features] = w_ih.transpose(1, 2)
        weights[:, hidden + features] = bias
        weights *= _gate_scale(hidden, 2.0, xf)
        inputs = xf.new_empty(2, slots, width)
        inputs[:, :counts[0], :hidden] = 0                                  # the initial state
        inputs[0, :, hidden:hidden + features] = xf
        inputs[1, :, hidden:hidden + features] = xr
        inputs[:, :, hidden + features] = 1
        inputs[:, :, hidden + features + 1:] = 0
        acts = xf.new_empty(2, slots, 4 * hidden)
        cs = xf.new_empty(2, slots, hidden)          # cell states
        gs = xf.new_empty(2, slots, hidden)          # tanh of the g gate
        tcs = xf.new_empty(2, slots, hidden)         # tanh of the cell
        final = xf.new_empty(2, counts[0], hidden)
        one = xf.new_ones(())                        # a tensor, not a Python number: no conversion per call
        # Every view a step uses, made by one split per buffer (a slice in the loop costs a call each).
        gate = acts.unflatten(2, (4, hidden))
        i, f, s_g, o = (gate[:, :, k].split(counts, 1) for k in range(4))
        x, gates, c, g, tc = (buffer.split(counts, 1) for buffer in (inputs, acts, cs, gs, tcs))
        h_next = inputs[:, :, :hidden].split(counts, 1)[1:]              # step t writes h into step t + 1's slots
        going_on, ending = _continuing(counts)
        parts = _parts(counts)
        c_kept, _ = _pairs(cs.split(parts, 1))                            # each step's rows that go on
        o_kept, o_ending = _pairs(gate[:, :, 3].split(parts, 1))
        tc_kept, tc_ending = _pairs(tcs.split(parts, 1))
        final_rows = final.split(ending[::-1], 1)[::-1]                   # step t's ending rows, in order
        for t in range(len(counts)):
            torch.bmm(x[t], weights, out=gates[t])
            gates[t].sigmoid_()
            torch.add(s_g[t], s_g[t], out=g[t]).sub_(one)
            torch.mul(i[t], g[t], out=c[t])
            if t:
                c[t].addcmul_(f[t], c_kept[t - 1])
            torch.add(c[t], c[t], out=tc[t]).sigmoid_()
            tc[t].add_(tc[t]).sub_(one)
            if going_on[t]:
                torch.mul(o_kept[t], tc_kept[t], out=h_next[t])
            if ending[t]:
                torch.mul(o_ending[t], tc_ending[t], out=final_rows[t])
        final_cells = cs.index_select(1, torch.from_numpy(plan.last_slot).to(cs.device))
        if with_states:                              # each slot's h: where the step wrote it
            states = torch.cat([inputs[:, :, :hidden], final], dim=1).index_select(
                1, torch.from_numpy(plan.output_index).to(cs.device))
        else:
            states = xf.new_empty(2, 0, hidden)
        ctx.save_for_backward(w_ih, w_hh, inputs, acts, cs, gs, tcs)
        ctx.counts = counts
        ctx.set_materialize_grads(False)
        return final, final_cells, states

    @staticmethod
    def backward(ctx, grad, grad_cells, grad_states):
        w_ih, w_hh, inputs, acts, cs, gs, tcs = ctx.saved_tensors
        counts = ctx.counts
        hidden = w_hh.shape[2]
        # The g gate's gradients are kept divided by 4 (d tanh(z) / dz = 4 s (1 - s), s = sigmoid(2z)):
        # the 4 goes into the weights the recurrence multiplies by and into the weight gradients.
        four = _gate_scale(hidden, 4.0, acts)
        w_hh_4 = w_hh * four[:, None]
        shape = (2, counts[0], hidden)
        # A row's gradients wait here until the loop reaches its last step.
        dh = acts.new_zeros(shape) if grad is None else grad.contiguous().clone()
        dc = acts.new_zeros(shape) if grad_cells is None else grad_cells.contiguous().clone()
        step_grads = None if grad_states is None else grad_states.split(counts, 1)
        dz = torch.empty_like(acts)       # gradients of the gate pre-activations (g's divided by 4)
        minus_one = acts.new_full((), -1.0)
        gate, d_gate = acts.unflatten(2, (4, hidden)), dz.unflatten(2, (4, hidden))
        i, f, o = (gate[:, :, k].split(counts, 1) for k in (0, 1, 3))
        u_i, u_f, u_g, u_o = (d_gate[:, :, k].split(counts, 1) for k in range(4))
        gates, g, tc, u = (buffer.split(counts, 1) for buffer in (acts, gs, tcs, dz))
        c_kept, _ = _pairs(cs.split(_parts(counts), 1))
        for t in range(len(counts) - 1, -1, -1):
            n = counts[t]
            dh_t, dc_t = dh[:, :n], dc[:, :n]
            if step_grads is not None:
                dh_t.add_(step_grads[t])
            torch.mul(dh_t, tc[t], out=u_o[t])
            dc_t.addcmul_(dh_t * o[t], torch.addcmul(minus_one, tc[t], tc[t]), value=-1)   # += dh o (1 - tanh^2 c)
            torch.mul(dc_t, g[t], out=u_i[t])
            if t:
                torch.mul(dc_t, c_kept[t - 1], out=u_f[t])
            else:
                u_f[t].zero_()
            torch.mul(dc_t, i[t], out=u_g[t])
            u[t].mul_(torch.addcmul(gates[t], gates[t], gates[t], value=-1))             # sigmoid' = s (1 - s)
            dc_t.mul_(f[t])
            if t:
                torch.bmm(u[t], w_hh_4, out=dh_t)
        features = w_ih.shape[2]
        d_weights = torch.bmm(inputs.transpose(1, 2), dz).mul_(four)        # (2, width, 4H)
        d_w_hh = d_weights[:, :hidden].transpose(1, 2)
        d_w_ih = d_weights[:, hidden:hidden + features].transpose(1, 2)
        d_bias = d_weights[:, hidden + features]
        d_x = [dz[d] @ (w_ih[d] * four[:, None]) if ctx.needs_input_grad[d] else None for d in range(2)]
        return d_x[0], d_x[1], d_w_ih, d_w_hh, d_bias, None, None


def _run(lstm: torch.nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor, with_states: bool):
    batch, width, features = sequences.shape
    plan = step_plan(lengths.cpu().numpy(), width)
    flat = sequences.reshape(batch * width, features)
    xf = flat.index_select(0, torch.from_numpy(plan.forward_index))
    xr = flat.index_select(0, torch.from_numpy(plan.reverse_index))
    w_ih = torch.stack([lstm.weight_ih_l0, lstm.weight_ih_l0_reverse])
    w_hh = torch.stack([lstm.weight_hh_l0, lstm.weight_hh_l0_reverse])
    bias = torch.stack([lstm.bias_ih_l0 + lstm.bias_hh_l0, lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse])
    final, cells, states = _BiLstm.apply(xf, xr, w_ih, w_hh, bias, plan, with_states)
    restore = torch.from_numpy(np.argsort(plan.order, kind="stable"))
    return plan, final, cells, states, restore


def bilstm_final_states(lstm: torch.nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, input) padded sequences and their lengths -> (B, 2H): the final states of both directions,
    as ``torch.cat([h_n[0], h_n[1]], 1)`` of ``lstm`` over the packed batch (one layer, batch first)."""
    _, final, _, _, restore = _run(lstm, sequences, lengths, with_states=False)
    return torch.cat([final[0], final[1]], dim=1).index_select(0, restore)


def bilstm(lstm: torch.nn.LSTM, sequences: torch.Tensor, lengths: torch.Tensor):
    """(B, T, input) padded sequences and their lengths -> (outputs (B, T, 2H), zero past each length;
    final hidden states (B, 2H); final cell states (B, 2H)): what ``lstm`` over the packed batch gives
    after ``pad_packed_sequence`` and ``torch.cat([h_n[0], h_n[1]], 1)`` (and the same of ``c_n``)."""
    batch, width, _ = sequences.shape
    plan, final, cells, states, restore = _run(lstm, sequences, lengths, with_states=True)
    hidden = final.shape[2]
    # Each slot's state goes to its frame's time: the reverse direction's slots were read backwards.
    outputs = states.new_zeros(batch * width, 2, hidden)
    outputs[:, 0].index_copy_(0, torch.from_numpy(plan.forward_index), states[0])
    outputs[:, 1].index_copy_(0, torch.from_numpy(plan.reverse_index), states[1])
    return (outputs.view(batch, width, 2 * hidden), torch.cat([final[0], final[1]], dim=1).index_select(0, restore),
            torch.cat([cells[0], cells[1]], dim=1).index_select(0, restore))


def supported(lstm: torch.nn.LSTM, sequences: torch.Tensor) -> bool:
    """The CPU path covers one bidirectional layer with biases in float32/float64, autocast off."""
    return (sequences.device.type == "cpu" and lstm.num_layers == 1 and lstm.bidirectional and lstm.bias
            and lstm.batch_first and not lstm.proj_size and sequences.dtype in (torch.float32, torch.float64)
            and lstm.weight_ih_l0.dtype == sequences.dtype and not torch.is_autocast_enabled("cpu"))
