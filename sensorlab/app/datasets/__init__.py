"""The datasets tab: dataset spec form, split preview and build."""
