"""Multi-objective optimisers behind one ask/tell contract, found by name in ``BASELINES``.

The built-in baselines are named here and imported when a run first asks for one (``Registry.defer``),
so a run of random search never imports SMAC or Optuna. Outside packages register theirs through the
``bag_of_baselines.baselines`` entry-point group or a module passed with ``run_suite.py --plugin``.
"""

from baselines.base import BASELINES, Baseline, Option, OptionError, Proposal, register

#: name -> "module:class" of every built-in baseline, in the order ``BASELINES.names()`` lists them
BUILT_IN = {
    "device_hypernet": "baselines.device_hypernet:DeviceHypernet",
    "gp_ehvi": "baselines.gp_ehvi:GPEHVI",
    "hw_pr_nas": "baselines.hw_pr_nas:HWPRNAS",
    "lamoo": "baselines.lamoo:LaMOO",
    "mo_asha": "baselines.mo_asha:MOASHA",
    "mo_bananas": "baselines.mo_bananas:MOBANANAS",
    "mo_bohb": "baselines.mobohb:MOBOHB",
    "morea": "baselines.morea:MOREA",
    "motpe": "baselines.motpe:MOTPE",
    "ms_ehvi": "baselines.ms_ehvi:MSEHVI",
    "nsga2": "baselines.nsga2:NSGA2",
    "nsga3": "baselines.nsga3:NSGA3",
    "parego": "baselines.parego:ParEGO",
    "qnehvi": "baselines.qnehvi:QNEHVI",
    "random_search": "baselines.random_search:RandomSearch",
    "sh_emoa": "baselines.sh_emoa:SHEMOA",
    "sms_emoa": "baselines.sms_emoa:SMSEMOA",
}
for _name, _target in BUILT_IN.items():
    BASELINES.defer(_name, _target)

__all__ = ["BASELINES", "BUILT_IN", "Baseline", "Option", "OptionError", "Proposal", "register"]
