"""einsum: sums of products named by subscripts, ``einsum("ij,jk->ik", a, b)``.

The equation (or PyTorch's sublist form) is parsed into explicit letters for every operand
and the output, ellipses and size-1 dims broadcasting as in PyTorch; NumPy or CuPy computes
the product. The gradient for each operand is itself an einsum, of the output's gradient with
the other operands, so gradients of gradients work. Operands are checked as matmul's are (one
device, one dtype).
"""
from __future__ import annotations

import string

import numpy as np

from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import needs_grad, record, shape_str, xp_of
from .linalg import _as_dtype, _check_operands

_wrap = Tensor._wrap

# Subscript letters in PyTorch's order: sublist integer i is _LETTERS[i], and an implicit einsum
# output lists its letters in this (ASCII) order, uppercase first.
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def einsum(*args):
    """Sums of products named by subscripts: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``.

    Takes an equation and operands (as varargs or one list), or PyTorch's sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. Without '->' the output has the letters that
    appear once, in alphabetical order (uppercase first); '...' stands for dimensions that
    broadcast across operands, as do dimensions of size 1.
    """
    equation, operands = _einsum_arguments(args)
    _check_operands("einsum", {f"operand {i}": t for i, t in enumerate(operands)})
    terms, output = _parse_einsum(equation, [t._data.shape for t in operands])
    sizes = _letter_sizes(terms, [t._data.shape for t in operands])
    dropped = [_drop_broadcast_dims(term, t, sizes) for term, t in zip(terms, operands)]
    return _einsum(tuple(term for term, _ in dropped), output, [t for _, t in dropped])


def _einsum_arguments(args):
    """The equation and the list of operands, from any of PyTorch's calling forms."""
    if not args:
        raise TypeError("einsum: expected an equation and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise ValueError(f"einsum: the equation {equation!r} needs at least one operand")
    return equation, operands


def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [output]) as an equation and operands."""
    def letters(sublist):
        out = []
        for s in sublist:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(_LETTERS):
                out.append(_LETTERS[s])
            else:
                raise ValueError(f"einsum: subscripts in a sublist must be integers in "
                                 f"[0, {len(_LETTERS)}) or Ellipsis, got {s!r}")
        return "".join(out)

    pairs = len(args) // 2
    equation = ",".join(letters(args[2 * i + 1]) for i in range(pairs))
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, [args[2 * i] for i in range(pairs)]


def _split_ellipsis(term, where):
    """(letters before '...', letters after, whether there is one) for one subscript term."""
    before, ellipsis, after = term.partition("...")
    if "." in before or "." in after:
        raise ValueError(f"einsum: {where} '{term}' has a '.' outside a single ellipsis '...'")
    for letter in before + after:
        if letter not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {letter!r} in {where} '{term}'; "
                             "subscripts must be letters a-z, A-Z")
    return before, after, bool(ellipsis)


def _parse_einsum(equation, shapes):
    """Explicit letters for every operand's dimensions and for the output.

    Ellipses become letters the equation does not use, aligned from the right across operands
    so that their dimensions broadcast as in NumPy.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has subscripts for {len(inputs)} "
                         f"operand{'s' if len(inputs) != 1 else ''}, but {len(shapes)} "
                         "were given")
    spare = [c for c in _LETTERS if c not in eq]
    parts = []
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        before, after, has_ellipsis = _split_ellipsis(term, f"operand {i}'s subscripts")
        named = len(before) + len(after)
        if named > len(shape) or (named != len(shape) and not has_ellipsis):
            raise ValueError(f"einsum: operand {i} has shape {shape_str(shape)}, but its "
                             f"subscripts '{term}' name {named} dimension"
                             f"{'s' if named != 1 else ''}")
        parts.append((before, after, len(shape) - named))
    ellipsis = "".join(spare[:max((n for _, _, n in parts), default=0)])
    terms = tuple(before + ellipsis[len(ellipsis) - n:] + after for before, after, n in parts)
    if arrow:
        before, after, has_ellipsis = _split_ellipsis(rhs, "the output subscripts")
        output = before + (ellipsis if has_ellipsis else "") + after
    else:
        once = [c for c in _LETTERS if lhs.count(c) == 1]
        output = ellipsis + "".join(once)
    _check_output(output, terms)
    return terms, output


def _check_output(output, terms):
    for letter in output:
        if output.count(letter) > 1:
            raise ValueError(f"einsum: output subscript {letter} appears more than once")
        if not any(letter in term for term in terms):
            raise ValueError(f"einsum: output subscript {letter} does not appear in any "
                             "operand's subscripts")


def _letter_sizes(terms, shapes):
    """Each letter's size; a dimension of size 1 broadcasts against the others."""
    sizes = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        own = {}
        for letter, size in zip(term, shape):
            if own.setdefault(letter, size) != size:
                raise RuntimeError(f"einsum: subscript {letter} is repeated in operand {i} "
                                   f"(shape {shape_str(shape)}), but with sizes {own[letter]} "
                                   f"and {size}; a repeated subscript takes a diagonal, which "
                                   "needs equal sizes")
            seen = sizes.get(letter, 1)
            if size != 1 and seen != 1 and size != seen:
                raise RuntimeError(f"einsum: subscript {letter} has size {size} in operand {i} "
                                   f"(shape {shape_str(shape)}) but size {seen} in an earlier "
                                   "operand; sizes must match or be 1")
            sizes[letter] = max(seen, size)
    return sizes


def _drop_broadcast_dims(term, operand, sizes):
    """Remove dimensions of size 1 that broadcast against a larger size elsewhere."""
    shape = operand._data.shape
    keep = [i for i, letter in enumerate(term) if shape[i] != 1 or sizes[letter] == 1]
    if len(keep) == len(term):
        return term, operand
    return "".join(term[i] for i in keep), operand.reshape(tuple(shape[i] for i in keep))


class EinsumBackward0(Node):
    """Each operand's gradient is an einsum of the output's gradient with the other operands."""

    def backward(self, grad):
        operands = self.saved_tensors
        return tuple(_einsum_grad(grad, self.terms, self.output, operands, k,
                                  self._input_meta[k][0]) if need else None
                     for k, need in enumerate(self.needs_input_grad))


def _einsum(terms, output, operands):
    """einsum on operands whose subscripts are explicit and whose sizes already agree."""
    arrays = [t._data for t in operands]
    xp = xp_of(arrays[0])
    spec = f"{','.join(terms)}->{output}"
    # optimize lets NumPy contract pairs with BLAS instead of its slower generic loop.
    data = xp.einsum(spec, *arrays, optimize=len(arrays) > 1)
    if len(arrays) == 1 and xp.may_share_memory(data, arrays[0]):
        data = data.copy()  # a transpose or diagonal comes back as a view of the input
    out = _wrap(_as_dtype(data, arrays[0].dtype))
    if needs_grad(*operands):
        # Operand j is needed for the gradient of every other operand, never for its own.
        saved = tuple(t if any(o._rg for o in operands[:j] + operands[j + 1:]) else None
                      for j, t in enumerate(operands))
        node = record(EinsumBackward0, tuple(operands), out, saved=saved)
        node.terms, node.output = terms, output
    return out


def _einsum_grad(grad, terms, output, operands, k, shape):
    """The gradient for operand k, of shape `shape`: the output's gradient and the other
    operands, contracted into operand k's subscripts.

    Two cases need constant operands: a subscript repeated in operand k (a diagonal) takes a
    new letter at its repeats, tied to the first by an identity matrix; a subscript summed
    away from operand k alone (no other operand, not the output) is spread back by ones.
    """
    xp, dtype = xp_of(grad._data), grad._data.dtype
    unused = iter(c for c in _LETTERS if c not in "".join(terms) + output)
    others = [j for j in range(len(terms)) if j != k]
    in_terms = [output] + [terms[j] for j in others]
    in_operands = [grad] + [operands[j] for j in others]
    target = []
    for letter, size in zip(terms[k], shape):
        if letter in target:
            new = next(unused, None)
            if new is None:
                raise RuntimeError("einsum: the equation uses too many letters to compute the "
                                   "gradient of a repeated subscript")
            in_terms.append(letter + new)
            in_operands.append(_wrap(xp.eye(size, dtype=dtype)))
            letter = new
        target.append(letter)
    for letter, size in zip(terms[k], shape):
        if not any(letter in term for term in in_terms):
            in_terms.append(letter)
            in_operands.append(_wrap(xp.ones(size, dtype=dtype)))
    return _einsum(tuple(in_terms), "".join(target), in_operands)


METHODS = ()
FUNCTIONS = ("einsum",)
