#!/usr/bin/python3
"""Copy of the stx cinder-local recipe launcher (used by scripts/cinder-dev, CINDER_BUS=fake): cinder api+scheduler+volume in ONE process (stock Debian code, custom launcher),
so that transport_url = fake:// (oslo.messaging in-memory driver) can replace RabbitMQ."""
import eventlet
eventlet.monkey_patch()
import __original_module_threading as orig_threading  # noqa
import threading  # noqa
orig_threading.current_thread.__globals__['_active'] = threading._active

import logging as python_logging
import shlex
import sys

import os_brick
from oslo_config import cfg
from oslo_log import log as logging
from oslo_privsep import priv_context
from oslo_service import service as oslo_service

from cinder.common import config  # noqa
from cinder import i18n
i18n.enable_lazy()
from cinder.common import constants
from cinder import coordination
from cinder import objects
from cinder import rpc
from cinder import service
from cinder import utils
from cinder import version

CONF = cfg.CONF


def main():
    objects.register_all()
    CONF(sys.argv[1:], project='cinder', version=version.version_string())
    config.set_middleware_defaults()
    logging.setup(CONF, 'cinder')
    python_logging.captureWarnings(True)
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
    utils.monkey_patch()
    os_brick.setup(CONF)
    coordination.COORDINATOR.start()
    rpc.init(CONF)
    launcher = oslo_service.ServiceLauncher(CONF, restart_method='mutate')
    backend = CONF.enabled_backends[0]
    launcher.launch_service(service.Service.create(
        host='%s@%s' % (CONF.host, backend), service_name=backend,
        binary=constants.VOLUME_BINARY, coordination=True))
    launcher.launch_service(service.Service.create(binary='cinder-scheduler'))
    launcher.launch_service(service.WSGIService('osapi_volume'))
    launcher.wait()


if __name__ == '__main__':
    main()
