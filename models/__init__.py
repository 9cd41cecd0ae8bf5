"""The models, by the name their script and reference recipe use."""

import importlib

# name -> (module, class): the registry key. `scripts/run_<name>.py` trains it, the
# reference recipe of the same name checks it (reproduce/reference.py), a run's
# config.json stores it (`key`) and `reproduce.evaluate` rebuilds the run from it.
# docs/adding-a-model.md lists every file a new model touches.
MODELS = {
    "dragan": ("models.dragan", "DRAGAN"),
    "gan": ("models.gan", "GAN"),
    "dcgan": ("models.dcgan", "DCGAN"),
    "dcgan_pokemon": ("models.dcgan", "DCGANPokemon"),
    "wgan": ("models.wgan", "WGAN"),
    "wgan_gp": ("models.wgan_gp", "WGANGP"),
    "cgan": ("models.cgan", "CGAN"),
    "acgan": ("models.acgan", "ACGAN"),
    "infogan": ("models.infogan", "InfoGAN"),
    "cyclegan": ("models.cyclegan", "CycleGAN"),
}


def key_of(cls):
    """The name `cls` is registered under (None for an unregistered class, e.g. a test's)."""
    for name, (module, class_name) in MODELS.items():
        if (cls.__module__, cls.__name__) == (module, class_name):
            return name
    return None


def get_model(name):
    """The model class registered as `name`."""
    if name not in MODELS:
        raise KeyError("unknown model %r: use one of %s" % (name, ", ".join(sorted(MODELS))))
    module, cls = MODELS[name]
    return getattr(importlib.import_module(module), cls)
