"""Update ops, built one way: `update`, with the read-before-write rule in one place.

An update rule holds one optimizer object's state over its variables (`TF1Adam`: the
blogs' `tf.train.AdamOptimizer`; `KerasRMSprop`, `KerasAdam`: standalone Keras 2.2.4's
rules as raw TF1 ops, no Keras). `update([(rule, loss), ...], reads)` is the one builder
of update ops: every gradient of every listed step and every tensor of `reads` (the
logged losses of the forward pass) is computed from the variables' values before any
variable changes (each read of a changed variable runs before any update), so an
update and its logged values are those of the current weights (a TF1 graph leaves a
weight's read and another weight's update in one session run unordered). Several steps
in one call are simultaneous (DCGAN's `train_step`); updates that must follow each other
are chained by the caller's `tf.control_dependencies` (a compiled Keras model stepped
twice in one run). `keras_optimizers` makes several Keras rules that share one
`iterations` counter or keep their own (one Keras optimizer object compiled into several
models); `keras_rmsprop` and `keras_adam` are the one-update shorthand.

The Keras-GAN blog scripts train with `RMSprop(lr=0.00005)` (wgan.py, wgan_gp.py),
`RMSprop(lr=2e-4, decay=6e-8)` (InfoGAN), `Adam(0.0002, 0.5)` (CGAN, ACGAN, CycleGAN);
the TF1 blogs (GAN, DRAGAN) and the TF DCGAN tutorial with TF's Adam.
"""

import abc
from tf_compat import tf

__all__ = ["update", "TF1Adam", "KerasRMSprop", "KerasAdam", "keras_optimizers",
           "keras_rmsprop", "keras_adam"]


def update(steps, reads=(), name=None):
    """THE builder of update ops: one op doing every step of `steps` at once.

    Every gradient of every step and every tensor of `reads` is computed from the
    variables' values before any variable of any step changes (the rule is here and
    nowhere else): every op those tensors depend on that reads a variable the steps
    change (`_reads_of`) runs before any update. A resource variable's read is a
    snapshot (an update copies a buffer a read still holds), so that is the whole
    rule: the gradients need not all be finished, and each variable's update starts as
    soon as its own gradient is ready, not after the last one (on DRAGAN, waiting for
    every gradient left the Adam updates alone at the end of each phase's run: 5-15%
    of its time, profiled under load). The returned op also waits for every gradient and read
    (a group beside the updates): so each gradient keeps a control output, as it had
    when every update waited for it, and Grappler sums a weight's gradient terms as
    before (without it, it merged sums and moved DRAGAN's and WGAN-GP's float32 bits).

    Args:
      steps: [(rule, loss)], applied in this order; `loss` may instead be the list of
        its gradients, one per variable of `rule.var_list`, taken by the caller.
      reads: tensors computed from the values before any update (e.g. the logged losses).
      name: name of the op grouping the steps' updates.
    """
    grads = [loss if isinstance(loss, (list, tuple)) else rule.gradients(loss)
             for rule, loss in steps]
    changed = [v for rule, _ in steps for v in rule.var_list]
    every = [g for gs in grads for g in gs] + list(reads)
    with tf.control_dependencies(_reads_of(changed, every)):
        ops = [rule.apply(gs) for (rule, _), gs in zip(steps, grads)]
    return tf.group(*ops, tf.group(*every), name=name)


def _reads_of(variables, tensors):
    """Every op that `tensors` depend on (through inputs and control inputs) and that
    takes the handle of one of `variables` (its reads: ReadVariableOp, ResourceGather...),
    in graph order. A variable that is not a resource variable has no handle to follow:
    then the tensors themselves, the safe superset."""
    if not all(hasattr(v, "handle") for v in variables):
        return list(tensors)
    handles = {v.handle.op for v in variables}
    found, seen, stack = [], set(), [t.op for t in tensors]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if any(t.op in handles for t in op.inputs):
            found.append(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return sorted(found, key=lambda op: op._id)


def _checked_gradients(loss, var_list):
    """d loss / d var for every variable of var_list (a missing one is a ValueError)."""
    grads = tf.gradients(loss, var_list)
    missing = [v.op.name for v, g in zip(var_list, grads) if g is None]
    if missing:
        raise ValueError("%s does not depend on %s" % (loss.op.name, ", ".join(missing)))
    return grads


class UpdateRule(abc.ABC):
    """An optimizer object's state over `var_list` and its step; `update` builds the ops.

    Subclasses implement `gradients(loss)` (one per variable) and `apply(grads)` (the
    ops that change the variables and the state; `update` calls it after the reads).
    """

    var_list = ()

    def update(self, loss, reads=()):
        """One step on `loss` (see the module function `update`)."""
        return update([(self, loss)], reads)

    def gradients(self, loss):
        return _checked_gradients(loss, self.var_list)

    @abc.abstractmethod
    def apply(self, grads):
        """The ops that change the variables and the state from `grads`."""


class TF1Adam(UpdateRule):
    """`tf.train.AdamOptimizer(lr, beta1, beta2, epsilon, name)` over var_list, as the
    blogs' TF1 code (and the TF DCGAN tutorial's Keras Adam, the same math) run it.

    State: the optimizer's own slots `<var>/<name>`, `<var>/<name>_1` and its
    `beta1_power`, `beta2_power` (in the name scope `scope`, if given: two optimizers then
    get `<scope>/beta1_power` each instead of `beta1_power` and `beta1_power_1`).
    """

    def __init__(self, var_list, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, name="Adam",
                 scope=None):
        self.var_list = list(var_list)
        self.scope = scope
        self.optimizer = tf.train.AdamOptimizer(lr, beta1=beta1, beta2=beta2,
                                                epsilon=epsilon, name=name)

    def apply(self, grads):
        if self.scope is None:
            return self.optimizer.apply_gradients(zip(grads, self.var_list))
        with tf.name_scope(self.scope):
            return self.optimizer.apply_gradients(zip(grads, self.var_list))


def _slot(var, suffix):
    """A non-trainable zeros variable shaped like var, named <scope>/<var.op.name>/<suffix>.

    Call under tf.init_scope() and the optimizer's name scope."""
    shape = var.get_shape()
    if not shape.is_fully_defined():
        raise ValueError("Variable %s needs a fully defined shape, got %s." % (var.op.name, shape))
    dtype = var.dtype.base_dtype
    return tf.Variable(tf.zeros(shape, dtype), trainable=False, dtype=dtype,
                       name="%s/%s" % (var.op.name, suffix))


def _decayed(lr, decay, iterations, dtype):
    lr = tf.constant(lr, dtype)
    if decay > 0:
        lr = lr * (1.0 / (1.0 + tf.constant(decay, dtype) * iterations))
    return lr


class _KerasOptimizer(UpdateRule):
    """One Keras 2.2 optimizer object: slots per variable and an `iterations` counter.

    Like a compiled Keras model, whose every `train_on_batch` call steps the same
    accumulators, several update ops can step it in turn. And like one Keras optimizer
    object passed to two `compile` calls, two of them can share one `iterations` counter
    (`keras_optimizers`; Keras 2.2 keeps the moments per model but the counter per object,
    and the bias correction / lr decay read it).

    The state (accumulators, moments, the counter) lives in non-trainable
    GLOBAL_VARIABLES (`<name>/<var>/accumulator`, `<name>/<var>/m`, `<name>/<var>/v`,
    `<name>/iterations`), so `tf.global_variables_initializer()` initialises it and
    `tf.train.Saver()` checkpoints it; it is created under `tf.init_scope()`, so building
    an update inside a caller's `tf.control_dependencies([...])` is safe.

    Subclasses set `slot_names` and implement `_step` (the per-variable rule from values
    read before the update) or override `_assign_ops`.
    """

    slot_names = ()

    def __init__(self, var_list, decay=0.0, iterations=None, name="Optimizer"):
        self.var_list = list(var_list)
        if not self.var_list:
            raise ValueError("var_list is empty: no variables to optimise.")
        if decay < 0:
            raise ValueError("decay must be >= 0, got %r" % decay)
        self.decay = decay
        # A name ending in "/" is a scope opened before (keras_rmsprop, keras_adam): re-enter it.
        with tf.name_scope(name if name.endswith("/") else None, default_name=name) as scope:
            self.scope = scope
            with tf.init_scope():
                if iterations is None:
                    iterations = tf.Variable(tf.constant(0, tf.int64), trainable=False,
                                             name="iterations")
                self.slots = [[_slot(v, s) for s in self.slot_names] for v in self.var_list]
        self.iterations = iterations

    def gradients(self, loss):
        with tf.name_scope(self.scope):
            return [tf.convert_to_tensor(g) for g in _checked_gradients(loss, self.var_list)]

    def apply(self, grads):
        with tf.name_scope(self.scope):
            it = tf.identity(self.iterations)
            assigns = self._assign_ops(it, grads)
            with tf.control_dependencies(assigns):
                count = tf.assign_add(self.iterations, tf.constant(1, tf.int64))
            return tf.group(*assigns, count, name="update")

    def _assign_ops(self, it, grads):
        """Compute every new value from the old ones, then assign them all."""
        targets, values = [], []
        for g, v, v_slots in zip(grads, self.var_list, self.slots):
            dtype = v.dtype.base_dtype
            new_v, new_slots = self._step(tf.cast(it, dtype), tf.cast(g, dtype), tf.identity(v),
                                          [tf.identity(s) for s in v_slots], dtype)
            targets += [v] + v_slots
            values += [new_v] + list(new_slots)
        with tf.control_dependencies(values + [it]):
            return [tf.assign(t, x) for t, x in zip(targets, values)]


class KerasRMSprop(_KerasOptimizer):
    """Keras 2.2.4 `RMSprop(lr, rho, epsilon, decay)`; state `<name>/<var>/accumulator`.

    One step (`iterations` starts at 0, one accumulator `a` per variable starting at 0;
    rho = 0.9, epsilon = K.epsilon() = 1e-7):

        lr_t  = lr / (1 + decay * iterations)        (only when decay > 0)
        a     = rho * a + (1 - rho) * g**2
        p     = p - lr_t * g / (sqrt(a) + epsilon)
        iterations += 1

    TF1's `tf.train.RMSPropOptimizer` is a different optimizer: its mean-square
    accumulator starts at 1.0 (not 0), epsilon sits inside the square root
    (`g / sqrt(a + epsilon)`), it has no Keras-style lr decay, and its default epsilon is
    1e-10. Its first step is lr * g / sqrt(rho + (1 - rho) * g**2), about lr * |g| for
    the small gradients of GAN weights, while Keras's first step is about
    lr / sqrt(1 - rho) = 3.16 * lr per coordinate whatever the gradient's scale; so it
    cannot stand in for the blogs' RMSprop.
    """

    slot_names = ("accumulator",)

    def __init__(self, var_list, lr, rho=0.9, epsilon=1e-7, decay=0.0, iterations=None,
                 name="RMSprop"):
        self.lr, self.rho, self.epsilon = lr, rho, epsilon
        super().__init__(var_list, decay, iterations, name)

    def _step(self, iterations, g, p, slots, dtype):
        (a,) = slots
        lr_t = _decayed(self.lr, self.decay, iterations, dtype)
        new_a = self.rho * a + (1.0 - self.rho) * tf.square(g)
        new_p = p - lr_t * g / (tf.sqrt(new_a) + self.epsilon)
        return new_p, [new_a]


class KerasAdam(_KerasOptimizer):
    """Keras 2.2.4 `Adam(lr, beta1, beta2, epsilon, decay)`; state `<name>/<var>/m`, `.../v`.

    One step (m, v start at 0; epsilon = 1e-7):

        lr    = lr / (1 + decay * iterations)        (only when decay > 0)
        t     = iterations + 1
        lr_t  = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m     = beta1 * m + (1 - beta1) * g
        v     = beta2 * v + (1 - beta2) * g**2
        p     = p - lr_t * m / (sqrt(v) + epsilon)
        iterations += 1

    With decay == 0 this is exactly what `tf.train.AdamOptimizer(lr, beta1, beta2,
    epsilon=1e-7)` computes (its "epsilon hat" form).

    decay == 0: TF's fused Adam kernel (`ResourceApplyAdam`, as `tf.train.AdamOptimizer`
    runs it: m and v written m + (g - m)(1 - beta1) etc., equal to Keras's rule up to the
    last bits), fed beta^t with t = iterations + 1. decay > 0: the rule built here.
    Gradients are made dense (every row of an embedding's moments decays, as in Keras).
    """

    slot_names = ("m", "v")

    def __init__(self, var_list, lr, beta1=0.9, beta2=0.999, epsilon=1e-7, decay=0.0,
                 iterations=None, name="Adam"):
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        super().__init__(var_list, decay, iterations, name)

    def _assign_ops(self, it, grads):
        if self.decay > 0:
            return super()._assign_ops(it, grads)
        dtype = self.var_list[0].dtype.base_dtype
        t = tf.cast(it, dtype) + 1.0
        beta1, beta2 = tf.constant(self.beta1, dtype), tf.constant(self.beta2, dtype)
        beta1_power, beta2_power = tf.pow(beta1, t), tf.pow(beta2, t)
        lr, epsilon = tf.constant(self.lr, dtype), tf.constant(self.epsilon, dtype)
        return [tf.raw_ops.ResourceApplyAdam(
            var=p.handle, m=m.handle, v=v.handle, beta1_power=beta1_power,
            beta2_power=beta2_power, lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon,
            grad=g) for g, p, (m, v) in zip(grads, self.var_list, self.slots)]

    def _step(self, iterations, g, p, slots, dtype):
        m, v = slots
        t = iterations + 1.0
        lr_t = (_decayed(self.lr, self.decay, iterations, dtype)
                * tf.sqrt(1.0 - tf.pow(tf.constant(self.beta2, dtype), t))
                / (1.0 - tf.pow(tf.constant(self.beta1, dtype), t)))
        new_m = self.beta1 * m + (1.0 - self.beta1) * g
        new_v = self.beta2 * v + (1.0 - self.beta2) * tf.square(g)
        new_p = p - lr_t * new_m / (tf.sqrt(new_v) + self.epsilon)
        return new_p, [new_m, new_v]


def keras_optimizers(cls, var_lists, counter="separate", counter_name="Adam", **hyper):
    """{name: cls(var_list, name=name, **hyper)} for the (name, var_list) pairs of
    `var_lists`, in order: Keras optimizer states of several models.

    counter: "shared", one `<counter_name>/iterations` counter for all of them (one Keras
      optimizer object compiled into every model: each update advances the counter the
      others' bias correction / lr decay read), or "separate", one per state.
    """
    if counter not in ("shared", "separate"):
        raise ValueError("counter must be 'shared' or 'separate', got %r" % (counter,))
    shared = None
    if counter == "shared":
        with tf.init_scope():
            shared = tf.Variable(tf.constant(0, tf.int64), trainable=False,
                                 name=counter_name + "/iterations")
    return {name: cls(var_list, name=name, iterations=shared, **hyper)
            for name, var_list in dict(var_lists).items()}


def _one_update(cls, loss, var_list, name, **kwargs):
    """One update op of a fresh `cls` state over the variables of var_list that get a
    gradient (the others keep their value)."""
    if kwargs.get("decay", 0.0) < 0:
        raise ValueError("decay must be >= 0, got %r" % kwargs["decay"])
    if var_list is None:
        var_list = tf.trainable_variables()
    var_list = list(var_list)
    if not var_list:
        raise ValueError("var_list is empty: no variables to optimise.")
    with tf.name_scope(None, default_name=name) as scope:
        pairs = [(tf.convert_to_tensor(g), v)
                 for g, v in zip(tf.gradients(loss, var_list), var_list) if g is not None]
    if not pairs:
        raise ValueError("No gradients for any variable of var_list (%s): the loss %s does not "
                         "depend on them." % ([v.op.name for v in var_list], loss))
    optimizer = cls([v for _, v in pairs], name=scope, **kwargs)
    return update([(optimizer, [g for g, _ in pairs])])


def keras_rmsprop(loss, var_list, lr, rho=0.9, epsilon=1e-7, decay=0.0, name="RMSprop"):
    """Train op doing one Keras 2.2.4 `RMSprop(lr, rho, epsilon, decay)` step on var_list.

    State: `<name>/<var.op.name>/accumulator` per variable and `<name>/iterations`
    (int64), all non-trainable global variables; a repeated name gets a `_1`,
    `_2`... suffix. lr decays with the iteration count before the step's increment.
    """
    return _one_update(KerasRMSprop, loss, var_list, name, lr=lr, rho=rho, epsilon=epsilon,
                       decay=decay)


def keras_adam(loss, var_list, lr, beta1=0.9, beta2=0.999, epsilon=1e-7, decay=0.0, name="Adam"):
    """Train op doing one Keras 2.2.4 `Adam(lr, beta1, beta2, epsilon, decay)` step on var_list.

    State: `<name>/<var.op.name>/m`, `.../v` and `<name>/iterations` (see `KerasAdam`).
    """
    return _one_update(KerasAdam, loss, var_list, name, lr=lr, beta1=beta1, beta2=beta2,
                       epsilon=epsilon, decay=decay)
