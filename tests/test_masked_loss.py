"""The reproduction's masked MSE against a plain per-pair loop (issue 18): padded frames never
count, and the mean is over the real frames times the coefficients, whatever the padding."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from reproductions.speech2vec.model import masked_mse  # noqa: E402


def loop_mse(predicted, target, lengths):
    total, count = 0.0, 0
    for row, length in enumerate(lengths.tolist()):
        diff = predicted[row, :length].double() - target[row, :length].double()
        total += float((diff ** 2).sum())
        count += length * target.shape[-1]
    return total / count


@pytest.mark.parametrize("lengths", [[1, 5, 3, 5], [5, 5, 5, 5], [2, 1, 1, 4]])
def test_masked_mse_equals_a_loop_over_the_real_frames(lengths):
    generator = torch.Generator().manual_seed(sum(lengths))
    predicted = torch.randn(4, 5, 3, generator=generator)
    target = torch.randn(4, 5, 3, generator=generator)
    lengths = torch.tensor(lengths)
    assert masked_mse(predicted, target, lengths).item() == pytest.approx(loop_mse(predicted, target, lengths), rel=1e-6)
    # garbage in the padding changes nothing
    noisy = predicted.clone()
    for row, length in enumerate(lengths.tolist()):
        noisy[row, length:] = 1e3
    assert masked_mse(noisy, target, lengths).item() == pytest.approx(masked_mse(predicted, target, lengths).item())


def test_masked_mse_of_one_frame_by_hand():
    predicted = torch.tensor([[[1.0, 2.0], [9.0, 9.0]]])
    target = torch.tensor([[[0.0, 0.0], [0.0, 0.0]]])
    # one real frame of two coefficients: (1 + 4) / 2
    assert masked_mse(predicted, target, torch.tensor([1])).item() == pytest.approx(2.5)
    assert masked_mse(predicted, target, torch.tensor([2])).item() == pytest.approx((1 + 4 + 81 + 81) / 4)


def test_masked_mse_gradient_is_zero_on_padding():
    predicted = torch.randn(2, 4, 3, requires_grad=True)
    target = torch.randn(2, 4, 3)
    masked_mse(predicted, target, torch.tensor([2, 4])).backward()
    assert torch.all(predicted.grad[0, 2:] == 0) and torch.all(predicted.grad[0, :2] != 0)
    assert torch.all(predicted.grad[1] != 0)
