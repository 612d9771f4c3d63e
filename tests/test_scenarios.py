"""Class splits in the three scenarios (class-, task-, domain-incremental), built from hand-made arrays whose
every example can be traced: what each task trains and is tested on, which outputs it may use, how
tasks of different sizes are padded, the input format of Hsu et al., the validation split, and every
bad input as one line naming it."""

import numpy as np
import pytest

import sleepjax as sj
from sleepjax._datasets import load_bundled

# Ten labelled examples, x = the example's index (so a row names the example it came from).
Y_TRAIN = np.array([0, 1, 2, 3, 1, 0, 2, 2, 3, 0])
X_TRAIN = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
Y_TEST = np.array([3, 2, 1, 0, 0])
X_TEST = 100 + np.arange(5, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
TASKS = ((0, 1), (2, 3))


def build(mode, tasks=TASKS, **kw):
    return sj.split_arrays(X_TRAIN, Y_TRAIN, X_TEST, Y_TEST, tasks, mode=mode, num_classes=4, **kw)


def example_ids(x):
    return x[..., 0].astype(int).tolist()


def test_class_incremental_trains_over_the_classes_seen_so_far_and_tests_over_all():
    sc = build("class")
    # task {0,1}: examples 0, 1, 4, 5, 9 (data order); task {2,3}: 2, 3, 6, 7, 8
    assert example_ids(sc.train.x) == [[0, 1, 4, 5, 9], [2, 3, 6, 7, 8]]
    assert sc.train.y.tolist() == [[0, 1, 1, 0, 0], [2, 3, 2, 2, 3]]
    assert sc.train.classes.tolist() == [[True, True, False, False], [True, True, True, True]]
    assert sc.test.classes.all() and sc.num_outputs == 4 and sc.mode == "class"
    assert sc.train.valid is None  # both tasks hold 5 examples
    assert sc.train.at(1).classes.tolist() == [True] * 4
    # joint training: every example of the tasks' classes, in data order, over all outputs
    assert example_ids(sc.joint.x) == [list(range(10))] and sc.joint.classes is None


def test_the_joint_stream_of_tasks_that_leave_classes_out_holds_only_their_examples():
    """Catches a joint stream that takes the whole data set (the no-copy shortcut taken when the tasks do
    not cover every example): classes 1 and 3 in no task must not be trained on jointly."""
    sc = build("class", tasks=((0,), (2,)))
    assert example_ids(sc.joint.x) == [[0, 2, 5, 6, 7, 9]]
    assert sc.joint.y.tolist() == [[0, 2, 0, 2, 2, 0]]


def test_an_input_format_standardises_whatever_its_mean():
    """Catches the identity shortcut (no copy for mean 0 and std 1) taken for a format with mean 0 only."""
    sc = sj.split_by_class(load_bundled(), examples_per_task=5, input_format=sj.InputFormat(std=0.5))
    plain = sj.split_by_class(load_bundled(), examples_per_task=5)
    np.testing.assert_array_equal(sc.train.x, 2 * plain.train.x)
    np.testing.assert_array_equal(sc.test.x, 2 * plain.test.x)


def test_class_incremental_over_all_outputs_as_avalanche():
    assert build("class", train_outputs="all").train.classes is None


def test_task_incremental_masks_each_task_to_its_own_classes():
    sc = build("task")
    own = [[True, True, False, False], [False, False, True, True]]
    assert sc.train.classes.tolist() == own and sc.test.classes.tolist() == own
    assert sc.train.y.tolist() == [[0, 1, 1, 0, 0], [2, 3, 2, 2, 3]]


def test_domain_incremental_maps_each_class_to_its_position_in_its_task():
    sc = build("domain")
    assert sc.num_outputs == 2 and sc.train.classes is None and sc.test.classes.shape == (2, 2)
    assert sc.test.classes.all()
    assert sc.train.y.tolist() == [[0, 1, 1, 0, 0], [0, 1, 0, 0, 1]]  # 2 -> 0, 3 -> 1
    # test: task {0,1} has examples 102 (label 1), 103, 104 (label 0); task {2,3}: 100 (3 -> 1), 101 (2 -> 0)
    assert example_ids(sc.test.x[0][sc.test.mask[0]]) == [102, 103, 104]
    assert sc.test.y[0][sc.test.mask[0]].tolist() == [1, 0, 0]
    assert sc.test.y[1][sc.test.mask[1]].tolist() == [1, 0]
    assert sc.joint.y.tolist() == [[0, 1, 0, 1, 1, 0, 0, 0, 1, 0]]


def test_any_class_order_is_kept():
    sc = build("domain", tasks=((3, 0), (2, 1)))
    # task (3, 0): examples 0 (0 -> 1), 3 (3 -> 0), 5, 8, 9; the label is the position in the task as given
    assert example_ids(sc.train.x[0]) == [0, 3, 5, 8, 9]
    assert sc.train.y[0].tolist() == [1, 0, 1, 0, 1]
    sc = build("class", tasks=((3, 2), (1, 0)))
    assert sc.train.classes.tolist() == [[False, False, True, True], [True] * 4]
    assert sc.task_classes == ((3, 2), (1, 0))


def test_tasks_of_different_sizes_are_padded_with_their_own_examples_marked_invalid():
    tasks = ((0,), (2, 3), (1,))  # 3, 5 and 2 training examples
    sc = build("class", tasks=tasks)
    assert sc.train.x.shape == (3, 5, 3)
    assert example_ids(sc.train.x) == [[0, 5, 9, 0, 5], [2, 3, 6, 7, 8], [1, 4, 1, 4, 1]]
    assert sc.train.valid.tolist() == [[1, 1, 1, 0, 0], [1] * 5, [1, 1, 0, 0, 0]]
    np.testing.assert_array_equal(sc.train_sizes, [3, 5, 2])
    task = sc.train.at(2)
    assert task.valid.tolist() == [True, True, False, False, False] and task.index == 2


def test_examples_per_task_takes_the_first_in_data_order_and_joint_keeps_all():
    sc = build("class", examples_per_task=2)
    assert example_ids(sc.train.x) == [[0, 1], [2, 3]]
    assert sc.joint.x.shape == (1, 10, 3)
    with pytest.raises(ValueError, match="examples_per_task=6 but the smallest task has 5"):
        build("class", examples_per_task=6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "domain", "tasks": ((0, 1), (1, 2))}, r"^domain-incremental tasks \(0, 1\) and \(1, 2\) share class"),
        ({"mode": "class", "tasks": ((0, 1), (1, 2))}, r"^task classes must be distinct labels, but tasks .* share"),
        ({"mode": "task", "tasks": ((0, 0), (2, 3))}, r"^task \(0, 0\) lists a class twice"),
        ({"mode": "domain", "tasks": ((0, 1), (2,))}, r"^domain-incremental tasks share their outputs, so they need"),
        ({"mode": "class", "tasks": ((0, 1), (2, 7))}, r"^task classes must be distinct labels in 0..3"),
        ({"mode": "joint"}, r"^mode must be one of class, task, domain, got 'joint'"),
        ({"mode": "class", "train_outputs": "some"}, r"^train_outputs must be 'seen' or 'all'"),
        ({"mode": "class", "tasks": ((0, 1), ())}, r"^task_classes must list at least one non-empty task"),
    ],
)
def test_bad_splits_are_one_line_naming_the_problem(kwargs, message):
    kwargs = dict(kwargs)
    mode = kwargs.pop("mode")
    with pytest.raises(ValueError, match=message) as err:
        build(mode, **kwargs)
    assert "\n" not in str(err.value)


def test_a_task_without_test_examples_is_refused():
    with pytest.raises(ValueError, match=r"task \(2,\) has no test example"):
        sj.split_arrays(X_TRAIN, Y_TRAIN, X_TEST[:1], Y_TEST[:1], ((3,), (2,)), num_classes=4)


def test_hsu_input_pads_to_32x32_and_standardises():
    data = load_bundled()
    sc = sj.split_by_class(data, examples_per_task=10, input_format=sj.HSU_MNIST_INPUT)
    assert sc.input_size == 1024
    image = sc.train.x[0, 0].reshape(32, 32)
    background = (0.0 - 0.1) / 0.2752
    np.testing.assert_allclose(image[:2], background)  # the two padded rows
    np.testing.assert_allclose(image[:, -2:], background)
    first = data.x_train[np.isin(data.y_train, (0, 1))][0].reshape(28, 28)
    np.testing.assert_allclose(image[2:30, 2:30], (first - 0.1) / 0.2752, rtol=1e-6)


def test_bad_input_format_is_refused():
    with pytest.raises(ValueError, match="input pad must be a non-negative integer, got -1"):
        sj.split_by_class(load_bundled(), input_format=sj.InputFormat(pad=-1))
    with pytest.raises(ValueError, match="input mean must be finite and std positive"):
        sj.split_by_class(load_bundled(), input_format=sj.InputFormat(std=0.0))


def test_validation_split_holds_out_the_last_examples_of_every_class_and_never_trains_on_them():
    data = load_bundled()  # 600 training images per class
    sc = sj.split_by_class(data, examples_per_task=None, split="validation", validation_fraction=0.1)
    np.testing.assert_array_equal(sc.test_sizes, [120] * 5)  # 60 per class
    np.testing.assert_array_equal(sc.train_sizes, [1080] * 5)
    held = np.concatenate([np.flatnonzero(data.y_train == c)[-60:] for c in range(10)])
    trained = {row.tobytes() for row in sc.train.x.reshape(-1, 784)}
    assert len(trained) > 5000 and not trained & {row.tobytes() for row in data.x_train[held]}
    x_val = sc.test.x[0][sc.test.mask[0]]
    np.testing.assert_array_equal(x_val, data.x_train[np.sort(held[:120])])  # classes 0 and 1, in data order
    with pytest.raises(ValueError, match="validation fraction must lie strictly between 0 and 1"):
        sj.split_by_class(data, split="validation", validation_fraction=1.0)
    with pytest.raises(ValueError, match="split must be 'test' or 'validation'"):
        sj.split_by_class(data, split="train")


def test_dataset_of_other_images_and_classes():
    x = np.zeros((4, 2 * 3 * 3), np.float32)
    y = np.array([0, 1, 2, 11], np.int32)
    ds = sj.Dataset(x, y, x, y, "arrays", image_shape=(2, 3, 3), num_classes=12)
    sc = sj.split_by_class(ds, ((11, 0), (1, 2)), examples_per_task=None, input_format=sj.InputFormat(pad=1))
    assert sc.input_size == 4 * 5 * 3 and sc.num_outputs == 12
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        sj.Dataset(x, y, x, y, "arrays", image_shape=(2, 3, 3))
    with pytest.raises(ValueError, match=r"must have shape \(N, 9\)"):
        sj.Dataset(x, y, x, y, "arrays", image_shape=(3, 3), num_classes=12)
    with pytest.raises(ValueError, match="image_shape must be"):
        sj.Dataset(x, y, x, y, "arrays", image_shape=(18,), num_classes=12)


@pytest.mark.parametrize(("name", "shape"), [("fashion_mnist", (28, 28)), ("cifar10", (32, 32, 3))])
def test_any_tfds_image_set_goes_through_the_same_builders(name, shape, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    from sleepjax import _tfds

    monkeypatch.setattr(_tfds, "_check_reachable", lambda *args: None)
    with tfds.testing.mock_data(num_examples=40):
        ds = sj.load_tfds(name=name)
    assert ds.image_shape == shape and ds.num_classes == 10 and ds.x_train.shape == (40, int(np.prod(shape)))
    assert ds.source == f"TensorFlow Datasets {name!r}"
    classes = sorted(set(ds.y_train.tolist()) & set(ds.y_test.tolist()))[:4]
    tasks = (tuple(classes[:2]), tuple(classes[2:]))
    sc = sj.split_by_class(ds, tasks, examples_per_task=None, mode="domain", input_format=sj.InputFormat(pad=2))
    assert sc.input_size == (shape[0] + 4) * (shape[1] + 4) * (shape[2] if len(shape) == 3 else 1)
    assert sj.permuted_pixels(ds, 2).train.x.shape == (2, 40, int(np.prod(shape)))
    assert sj.rotated_images(ds, (0, 90)).test.x.shape == (2, 40, int(np.prod(shape)))


def test_tfds_set_that_is_not_image_classification_is_one_line():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4), pytest.raises(sj.DataError, match="not an image classification set"):
        sj.load_tfds(name="imdb_reviews")
