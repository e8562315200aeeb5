"""Channel webhook registration. (Filled in by the webhook work.)"""
