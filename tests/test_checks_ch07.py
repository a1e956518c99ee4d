"""Exercise checks of chapter 7: the reference passes, wrong answers
and unfinished stubs fail."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import checks


def stub(*args):
    raise NotImplementedError


def test_check_confusion_matrix():
    ref = checks._confusion_matrix_ref
    checks.check_confusion_matrix(ref)
    # oracle on the hand case
    m = ref(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)
    assert m.tolist() == [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]

    def counts(req, pred, k):
        m = torch.zeros(k, k)
        for i, j in zip(req.tolist(), pred.tolist()):
            m[i, j] += 1
        return m

    def transposed(req, pred, k):
        return ref(pred, req, k)

    def over_total(req, pred, k):
        return counts(req, pred, k) / len(req)

    for wrong in (counts, transposed, over_total, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_confusion_matrix(wrong)


def test_check_label_maps():
    ref = checks._label_maps_ref
    checks.check_label_maps(ref)
    out = ref(torch.zeros(2, 1, 3, 3), torch.tensor([0, 2]), 3)
    assert out.shape == (2, 4, 3, 3)
    assert out[0, 1].eq(1).all() and out[0, 2:].eq(0).all()
    assert out[1, 3].eq(1).all() and out[1, 1:3].eq(0).all()

    def labels_first(x, y, k):
        out = ref(x, y, k)
        return torch.cat([out[:, x.shape[1]:], out[:, :x.shape[1]]], 1)

    def one_channel(x, y, k):
        plane = y.float()[:, None, None, None].expand(-1, 1, *x.shape[2:])
        return torch.cat([x, plane], 1)

    def plus_minus_one(x, y, k):
        out = ref(x, y, k)
        out[:, x.shape[1]:] = out[:, x.shape[1]:] * 2 - 1
        return out

    def first_image_only(x, y, k):
        m = F.one_hot(y, k).float()[:, :, None, None]
        return torch.cat([x, m.expand(-1, -1, *x.shape[2:])], 1)[:, :1 + k]

    for wrong in (labels_first, one_channel, plus_minus_one,
                  first_image_only, stub):
        with pytest.raises(checks.CheckFailed):
            checks.check_label_maps(wrong)
