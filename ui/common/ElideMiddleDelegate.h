#pragma once

#include <QStyledItemDelegate>

namespace ccs::ui {

// For columns whose values differ at their end (generated message ids):
// "m-2026…-000002" says more than "m-20261127-23…".
class ElideMiddleDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::initStyleOption(option, index);
        option->textElideMode = Qt::ElideMiddle;
    }
};

} // namespace ccs::ui
