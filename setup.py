from configparser import ConfigParser
from pathlib import Path
import setuptools, shlex, warnings

# An editable install of this flat layout (grpo_nb/ beside setup.py) goes through setuptools' import finder, which says
# so in an information-only warning that pip shows at every `make setup`; it asks nothing of us, so it is not shown
warnings.filterwarnings("ignore", message="Editable installation", category=UserWarning)

# note: all settings are in settings.ini; edit there, not here
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

# SPDX licence expressions: setuptools deprecates licence classifiers (a warning at every install)
licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'gpl2': 'GPL-2.0-only', 'gpl3': 'GPL-3.0-only', 'bsd3': 'BSD-3-Clause'}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
    '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'): requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), cfg['license'])
dev_requirements = (cfg.get('dev_requirements') or '').split()

package_data = dict()
pkg_data = cfg.get('package_data', None)
if pkg_data:
    package_data[cfg['lib_name']] =  pkg_data.split() # split as multiple files might be listed
# The checkout's data/ and training notebook ship inside the package, as grpo_nb/bundled/data/... and
# grpo_nb/bundled/nbs/11_training_run.ipynb (and recipes/ as grpo_nb/bundled/recipes/), where grpo_nb.data.bundled finds them; git keeps the one copy, at the top level.
# setuptools ships data files by package: each bundled folder is one, mapped to the checkout's folder.
bundled = {folder.as_posix(): ['*'] for folder in [Path('data'), *Path('data').rglob('*')]
           if folder.is_dir() and not any(part.startswith('.') for part in folder.parts)}   # not .ipynb_checkpoints
bundled['nbs'] = ['11_training_run.ipynb']
bundled['recipes'] = ['*.yaml']
bundled_packages = {f"{cfg['lib_path']}.bundled.{folder.replace('/', '.')}": folder for folder in bundled}
package_data.update({package: bundled[folder] for package, folder in bundled_packages.items()})
# Add package data to setup_cfg for setuptools.setup(..., **setup_cfg)
setup_cfg['package_data'] = package_data

setuptools.setup(
    name = cfg['lib_name'],
    license = lic,
    classifiers = [
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]],
    url = cfg['git_url'],
    packages = setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']) + list(bundled_packages),
    package_dir = bundled_packages,
    include_package_data = True,
    install_requires = requirements,
    extras_require={ 'dev': dev_requirements },
    dependency_links = cfg.get('dep_links','').split(),
    python_requires  = '>=' + cfg['min_python'],
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {
        'console_scripts': cfg.get('console_scripts','').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d']
    },
    **setup_cfg)
