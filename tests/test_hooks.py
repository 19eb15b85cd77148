"""Tensor and node hooks, retain_grad, and their order, checked against PyTorch."""
from __future__ import annotations

import gc
import warnings

import pytest

import labgrad as lg
from labgrad.utils.hooks import RemovableHandle


def _plain(value):
    """Logged values made comparable between labgrad and PyTorch."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value.tolist()


def _logger(log, name, result=None):
    def hook(*args):
        log.append((name, _plain(args)))
        return result(*args) if result is not None else None
    return hook


# Each scenario takes the module (labgrad or torch) and returns what it observed.

def order_nonleaf(m):
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(_logger(log, "tensor 1", lambda g: g * 10))
    y.retain_grad()  # runs after every tensor hook, whenever it was asked for
    y.register_hook(_logger(log, "tensor 2", lambda g: g + 1))
    y.grad_fn.register_prehook(_logger(log, "node pre"))
    y.grad_fn.register_hook(_logger(log, "node post"))
    (y * 3).sum().backward()
    return log, _plain(y.grad), _plain(x.grad)


def order_leaf(m):
    log = []
    x = m.ones(2, requires_grad=True)
    x.register_hook(_logger(log, "tensor", lambda g: g * 2))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post acc", _plain(t.grad))))
    acc = (x * 3).grad_fn.next_functions[0][0]
    acc.register_prehook(_logger(log, "acc pre"))
    acc.register_hook(_logger(log, "acc post"))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    return log, _plain(x.grad)


def grad_with_needed_target(m):
    # y's node also runs for x: grad() captures y's gradient before y's hooks run.
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * 2
    z = y * 3
    y.register_hook(_logger(log, "y", lambda g: g * 10))
    y.grad_fn.register_prehook(_logger(log, "y node pre"))
    x.register_hook(_logger(log, "x", lambda g: g * 100))
    x.register_post_accumulate_grad_hook(lambda t: log.append("post acc"))
    result = m.autograd.grad(z.sum(), [y, x])
    return log, _plain(result), _plain(x.grad)


def grad_with_end_target(m):
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(_logger(log, "y", lambda g: g * 10))
    y.grad_fn.register_prehook(_logger(log, "y node pre"))
    y.retain_grad()
    result = m.autograd.grad((y * 3).sum(), [y])
    return log, _plain(result), _plain(y.grad)


def backward_inputs_nonleaf(m):
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * 2
    before = y.retains_grad
    y.register_hook(_logger(log, "y", lambda g: g * 10))
    (y * 3).sum().backward(inputs=[y])
    return log, before, y.retains_grad, _plain(y.grad), _plain(x.grad)


def unused_output(m):
    log = []
    x = m.ones(2, 3, requires_grad=True)
    a, b = x.unbind(0)
    a.register_hook(_logger(log, "a"))
    b.register_hook(_logger(log, "b"))
    a.grad_fn.register_prehook(_logger(log, "node pre"))
    (b * 2).sum().backward()
    return log, _plain(x.grad)


def retain_then_inplace(m):
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(_logger(log, "old"))
    y.mul_(3)
    y.register_hook(_logger(log, "new"))
    (y * 5).sum().backward()
    return log, _plain(y.grad), _plain(x.grad)


def view_hook(m):
    log = []
    x = m.ones(2, 2, requires_grad=True)
    v = (x * 1)[0]
    v.register_hook(_logger(log, "v"))
    v.retain_grad()
    (v * 7).sum().backward()
    return log, _plain(v.grad), _plain(x.grad)


def retain_accumulates(m):
    x = m.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.retain_grad()
    (y * 3).sum().backward(retain_graph=True)
    (y * 3).sum().backward()
    return _plain(y.grad), _plain(x.grad), y.retains_grad, x.retains_grad


def leaf_used_twice(m):
    log = []
    x = m.ones(2, requires_grad=True)
    x.register_hook(_logger(log, "x"))
    (x * 2 + x * 3).sum().backward()
    return log


def remove_during_backward(m):
    log = []
    x = m.ones(2, requires_grad=True)
    handles = []
    handles.append(x.register_hook(lambda g: (log.append("h1"), handles[1].remove())[0]))
    handles.append(x.register_hook(lambda g: log.append("h2")))
    (x * 1).sum().backward()
    (x * 1).sum().backward()
    return log


def create_graph_hooks(m):
    log = []
    x = m.ones(2, requires_grad=True)
    y = x * x
    y.register_hook(lambda g: log.append(("y", g.requires_grad)))
    x.register_hook(lambda g: log.append(("x", g.requires_grad)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's warning about .grad cycles
        y.sum().backward(create_graph=True)
    return log, _plain(x.grad)


def handle_as_context(m):
    x = m.ones(2, requires_grad=True)
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    handle = x.grad_fn  # None: x is a leaf
    return _plain(x.grad), handle


SCENARIOS = [order_nonleaf, order_leaf, grad_with_needed_target, grad_with_end_target,
             backward_inputs_nonleaf, unused_output, retain_then_inplace, view_hook,
             retain_accumulates, leaf_used_twice, remove_during_backward, create_graph_hooks,
             handle_as_context]


@pytest.mark.torch
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_matches_pytorch(scenario, torch):
    assert scenario(lg) == scenario(torch)


def _raises(m, setup):
    try:
        setup(m)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)
    return None


def _leaf_wrong_size(m):
    x = m.ones(2, requires_grad=True)
    x.register_hook(lambda g: m.ones(3))
    (x * 1).sum().backward()


def _nonleaf_wrong_size(m):
    y = m.ones(2, requires_grad=True) * 1
    y.register_hook(lambda g: m.ones(3))
    (y * 1).sum().backward()


def _post_fills_none(m):
    y = m.ones(2, requires_grad=True) * 1
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
    (y * 1).sum().backward()


def _pre_wrong_count(m):
    y = m.ones(2, requires_grad=True) * 1
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    (y * 1).sum().backward()


def _pre_not_tuple(m):
    y = m.ones(2, requires_grad=True) * 1
    y.grad_fn.register_prehook(lambda go: go[0])
    (y * 1).sum().backward()


def _hook_raises(m):
    x = m.ones(2, requires_grad=True)

    def bad(g):
        raise ValueError("boom")
    x.register_hook(bad)
    (x * 1).sum().backward()


ERRORS = {
    "retain_grad without grad": lambda m: m.ones(2).retain_grad(),
    "hook without grad": lambda m: m.ones(2).register_hook(lambda g: g),
    "post-accumulate on non-leaf": lambda m: (m.ones(2, requires_grad=True) * 2)
    .register_post_accumulate_grad_hook(lambda t: None),
    "post-accumulate without grad": lambda m: m.ones(2).register_post_accumulate_grad_hook(
        lambda t: None),
    "leaf hook changes size": _leaf_wrong_size,
    "non-leaf hook changes size": _nonleaf_wrong_size,
    "post-hook fills a None": _post_fills_none,
    "pre-hook wrong count": _pre_wrong_count,
    "pre-hook not a tuple": _pre_not_tuple,
    "hook raises": _hook_raises,
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_pytorch(name, torch):
    mine = _raises(lg, ERRORS[name])
    assert mine is not None, name
    assert mine == _raises(torch, ERRORS[name])


def test_nonleaf_grad_warns_like_pytorch():
    x = lg.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed") as record:
        assert y.grad is None
    assert record[0].filename == __file__  # points at the reader's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None and lg.ones(2).grad is None  # leaves: no warning
        y.retain_grad()
        assert y.grad is None  # retains grad: no warning


def test_retain_grad_on_leaf_is_a_no_op():
    x = lg.ones(2, requires_grad=True)
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_fires_leaf_hooks_but_accumulates_nothing():
    seen = []
    x = lg.ones(2, requires_grad=True)
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_post_accumulate_grad_hook(lambda t: seen.append("accumulated"))
    (gx,) = lg.autograd.grad((x * 3).sum(), [x])
    assert seen == [[3.0, 3.0]] and gx.tolist() == [3.0, 3.0] and x.grad is None


def test_handle_removes_and_is_reusable_for_any_dict():
    hooks = {}
    handle = RemovableHandle(hooks)
    hooks[handle.id] = print
    with handle as same:
        assert same is handle and handle.id in hooks
    assert hooks == {}
    handle.remove()  # twice is fine
    extra = {}
    other = RemovableHandle(hooks, extra_dict=extra)
    hooks[other.id] = extra[other.id] = print
    other.remove()
    assert hooks == {} and extra == {}
    assert other.id != handle.id


def test_node_hook_handles_remove():
    calls = []
    x = lg.ones(2, requires_grad=True)
    y = x * 2
    pre = y.grad_fn.register_prehook(lambda go: calls.append("pre"))
    post = y.grad_fn.register_hook(lambda gi, go: calls.append("post"))
    pre.remove()
    post.remove()
    (y * 1).sum().backward()
    assert calls == []


def test_hooks_do_not_keep_graph_alive():
    x = lg.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    node = y.grad_fn
    handle = y.register_hook(lambda g: None)
    import weakref
    ref = weakref.ref(node)
    del y, node
    gc.collect()
    assert ref() is None
    handle.remove()  # its node is gone: nothing to do


def test_no_hooks_leave_nodes_untouched():
    x = lg.ones(2, requires_grad=True)
    y = (x * 2).relu()
    y.sum().backward()
    assert "_hooks" not in vars(y.grad_fn)  # record() and backward make no hook state
