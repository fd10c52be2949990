"""The streaming top-k fold equals a stable sort of the whole column, however the rows arrive."""

import numpy as np
import pytest

from se_viz.analysis.topk import TopK


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_equals_a_stable_sort_in_any_batching(largest, batch):
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((300, 5)), 2)  # rounded: many ties, broken by the smaller id
    ids = rng.permutation(300) + 1000
    top = TopK(10, largest=largest)
    for start in range(0, 300, batch):
        top.push(scores[start : start + batch], ids[start : start + batch])
    got_s, got_i = top.result()
    for j in range(5):
        order = np.lexsort((ids, -scores[:, j] if largest else scores[:, j]))[:10]
        np.testing.assert_array_equal(got_i[:, j], ids[order])
        np.testing.assert_array_equal(got_s[:, j], scores[order, j])


def test_merge_of_partial_folds_equals_one_fold_and_nan_sorts_last():
    rng = np.random.default_rng(1)
    scores = rng.random(50)
    scores[[3, 9]] = np.nan
    ids = np.arange(50)
    whole, a, b = TopK(48), TopK(48), TopK(48)
    whole.push(scores, ids)
    a.push(scores[:20], ids[:20])
    b.push(scores[20:], ids[20:])
    merged_s, merged_i = a.merge(b).result()
    np.testing.assert_array_equal(merged_i, whole.result()[1])
    assert set(merged_i) == set(range(50)) - {3, 9}


def test_fewer_rows_than_k_and_empty():
    top = TopK(5)
    assert top.result()[1].size == 0
    top.push(np.array([0.2, 0.8]), np.array([1, 2]))
    np.testing.assert_array_equal(top.result()[1], [2, 1])
    with pytest.raises(ValueError):
        top.push(np.zeros((1, 2)), np.array([3]))
