"""Imports every model so that the metadata is complete (Alembic autogenerate, relationship resolution)."""

from wms.auth.models import User  # noqa: F401
from wms.catalog.models import Barcode, Product  # noqa: F401
from wms.channels.models import (  # noqa: F401
    ApiToken,
    Channel,
    ChannelLocation,
    OutboxEvent,
    Webhook,
    WebhookDelivery,
)
from wms.locations.models import Bin, Location  # noqa: F401
from wms.orders.models import Order, OrderEvent, OrderLine, Shipment  # noqa: F401
from wms.picking.models import Wave  # noqa: F401
from wms.printing.models import Printer, PrintJob, Station, StationScan  # noqa: F401
from wms.returns.models import Return, ReturnEvent, ReturnIntake, ReturnItem, ReturnLine  # noqa: F401
from wms.stock.models import (  # noqa: F401
    Lot,
    Receipt,
    Reservation,
    StockChange,
    StockCheck,
    StockLevel,
    StockMovement,
    StockQuant,
)
from wms.summaries.models import LocationStockSummary, NetworkStockSummary, StockLastMovement  # noqa: F401
from wms.tasks.models import Task, TaskLine, TaskScan  # noqa: F401
from wms.transfers.models import MinMax, Transfer, TransferLine  # noqa: F401
