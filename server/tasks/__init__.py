"""The platform's background tasks, declared on `pitchey.server.jobs.tasks` (importing this
package registers them): each module is one kind of work that happens later."""

from . import digests as digests
from . import investments as investments
from . import maintenance as maintenance
from . import media as media
from . import notifications as notifications
from . import subscriptions as subscriptions
