#pragma once

#include <QWidget>

namespace ccs::ui {

// "312 / 4096 bytes" with a thin bar that turns amber near and red over the limit.
class ByteMeter : public QWidget
{
    Q_OBJECT
public:
    explicit ByteMeter(QWidget *parent = nullptr);
    void setBytes(int bytes);
    int bytes() const { return m_bytes; }
    void setLimit(int limit);
    QString text() const;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    int m_bytes = 0;
    int m_limit = 4096;
};

} // namespace ccs::ui
