"""The models, by the name their script and reference recipe use."""

import importlib

# name -> (module, class); `scripts/run_<name>.py` trains it.
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


def get_model(name):
    """The model class registered as `name`."""
    if name not in MODELS:
        raise KeyError("unknown model %r: use one of %s" % (name, ", ".join(sorted(MODELS))))
    module, cls = MODELS[name]
    return getattr(importlib.import_module(module), cls)
