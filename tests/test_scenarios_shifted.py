"""Permuted and rotated MNIST: every task holds the same images transformed its own way, training and test
alike; rotations checked against exact quarter turns, permutations against the pixels they move."""

import numpy as np
import pytest

import sleepjax as sj
from sleepjax._datasets import load_bundled
from sleepjax._images import pixel_permutations, rotate_images


@pytest.fixture(scope="module")
def data():
    return load_bundled()


def test_quarter_turns_are_exact_and_counter_clockwise():
    image = np.arange(12, dtype=np.float32).reshape(3, 4) / 11  # a non-square image tells rows from columns
    square = np.arange(16, dtype=np.float32).reshape(4, 4) / 15
    x = square.reshape(1, -1)
    np.testing.assert_array_equal(rotate_images(x, (4, 4), 0.0), x)
    np.testing.assert_array_equal(rotate_images(x, (4, 4), 90.0).reshape(4, 4), np.rot90(square))  # top row -> left
    np.testing.assert_array_equal(rotate_images(x, (4, 4), 180.0).reshape(4, 4), np.rot90(square, 2))
    np.testing.assert_array_equal(rotate_images(x, (4, 4), -90.0).reshape(4, 4), np.rot90(square, -1))
    # a 3x4 image turned by 180 degrees stays in its frame
    np.testing.assert_array_equal(rotate_images(image.reshape(1, -1), (3, 4), 180.0).reshape(3, 4), image[::-1, ::-1])


def test_a_rotation_interpolates_and_fills_with_zero():
    image = np.zeros((5, 5), np.float32)
    image[2, 4] = 1.0  # right of the centre, two pixels away
    turned = rotate_images(image.reshape(1, -1), (5, 5), 45.0).reshape(5, 5)
    # output pixel (0, 3) is 2 up and 1 right of the centre; turned back by 45 degrees it reads the input at
    # row 2 - (2 cos 45 - sin 45) = 2 - sqrt(2)/2, column 2 + (cos 45 + 2 sin 45) = 2 + 3 sqrt(2)/2: between
    # rows 1 and 2 (fraction fr = 1 - sqrt(2)/2 towards row 2), columns 4 and 5 (fc = 3 sqrt(2)/2 - 2 past 4);
    # only (2, 4) is lit, with weight fr * (1 - fc); column 5 lies outside and counts as 0
    fr, fc = 1 - np.sqrt(2) / 2, 3 * np.sqrt(2) / 2 - 2
    assert turned[0, 3] == pytest.approx(fr * (1 - fc), abs=1e-6)
    # an all-ones image turned by 45 degrees: output corner (0, 0) reads row 2 - 2 sqrt(2) = -0.83, column 2,
    # i.e. row 0 with weight 3 - 2 sqrt(2) and row -1 (outside, so 0) with the rest
    ones = rotate_images(np.ones((1, 25), np.float32), (5, 5), 45.0).reshape(5, 5)
    assert ones[0, 0] == pytest.approx(3 - 2 * np.sqrt(2), abs=1e-6) and ones[2, 2] == 1.0


def test_permuted_tasks_shuffle_the_same_pixels_of_the_same_images(data):
    sc = sj.permuted_pixels(data, num_tasks=3, seed=7, examples_per_task=50)
    perms = pixel_permutations(3, 784, 7)
    assert sc.train.x.shape == (3, 50, 784) and sc.mode == "domain" and sc.num_outputs == 10
    np.testing.assert_array_equal(sc.train.x[0], data.x_train[:50])  # the first task is unpermuted
    for t in range(3):
        np.testing.assert_array_equal(sc.train.x[t], data.x_train[:50][:, perms[t]])
        np.testing.assert_array_equal(sc.test.x[t], data.x_test[:, perms[t]])  # the test set moved alike
        np.testing.assert_array_equal(sc.train.y[t], data.y_train[:50])
    assert not np.array_equal(perms[1], perms[2]) and sorted(perms[1]) == list(range(784))
    assert sc.test.classes.all() and sc.train.classes is None and sc.test.mask.all()
    np.testing.assert_array_equal(sc.joint.x[0], sc.train.x.reshape(-1, 784))
    again = sj.permuted_pixels(data, num_tasks=3, seed=7, examples_per_task=50)
    np.testing.assert_array_equal(again.train.x, sc.train.x)  # the permutations belong to the scenario
    other = sj.permuted_pixels(data, num_tasks=3, seed=8, examples_per_task=50, first_unpermuted=False)
    assert not np.array_equal(other.train.x[0], sc.train.x[0])


def test_permutations_apply_to_the_padded_inputs(data):
    sc = sj.permuted_pixels(data, num_tasks=2, examples_per_task=5, input_format=sj.HSU_MNIST_INPUT)
    assert sc.input_size == 1024
    unpermuted = sc.train.x[0]
    assert sorted(sc.train.x[1][0].tolist()) == sorted(unpermuted[0].tolist())


def test_rotated_tasks_turn_the_raw_images_before_formatting(data):
    sc = sj.rotated_images(data, (0.0, 90.0), examples_per_task=20, input_format=sj.InputFormat(pad=2))
    first = data.x_train[:20].reshape(20, 28, 28)
    np.testing.assert_array_equal(sc.train.x[1].reshape(20, 32, 32)[:, 2:30, 2:30], np.rot90(first, axes=(1, 2)))
    test = data.x_test.reshape(-1, 28, 28)
    np.testing.assert_array_equal(sc.test.x[1].reshape(-1, 32, 32)[:, 2:30, 2:30], np.rot90(test, axes=(1, 2)))


def test_shifted_validation_split_and_errors(data):
    sc = sj.rotated_images(data, (0.0, 45.0), split="validation")
    assert sc.train.x.shape == (2, 5400, 784) and sc.test.x.shape == (2, 600, 784)
    with pytest.raises(ValueError, match="num_tasks must be a positive integer, got 0"):
        sj.permuted_pixels(data, num_tasks=0)
    with pytest.raises(ValueError, match="rotation angles must be finite"):
        sj.rotated_images(data, (0.0, float("nan")))
    with pytest.raises(ValueError, match="examples_per_task=7000 but the data hold 6000"):
        sj.permuted_pixels(data, 2, examples_per_task=7000)
    with pytest.raises(ValueError, match="needs at least one task"):
        sj.rotated_images(data, ())
